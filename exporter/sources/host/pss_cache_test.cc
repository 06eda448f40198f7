#include "exporter/sources/host/pss_cache.h"

#include <gtest/gtest.h>

namespace gvisor_exporter {
namespace {

using std::chrono::seconds;

SmapsRollup Rollup(uint64_t pss) {
  SmapsRollup r;
  r.rss = 2 * pss;
  r.pss = pss;
  return r;
}

TEST(PssCacheTest, ReusedWhileYoungAndRssStill) {
  PssCache cache(seconds(30), 1.0 / 64);
  const auto t0 = PssCache::Clock::time_point() + seconds(1000);
  EXPECT_FALSE(cache.Lookup(7, 100, 6400, t0).has_value());
  cache.Store(7, 100, 6400, Rollup(1234), t0);
  std::optional<SmapsRollup> hit = cache.Lookup(7, 100, 6400, t0 + seconds(29));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->pss, 1234u);
  // Within 1/64 of the RSS it was read at, either way: still reused.
  EXPECT_TRUE(cache.Lookup(7, 100, 6500, t0 + seconds(1)).has_value());
  EXPECT_TRUE(cache.Lookup(7, 100, 6300, t0 + seconds(1)).has_value());
}

TEST(PssCacheTest, ReReadWhenOldMovedOrAnotherProcess) {
  PssCache cache(seconds(30), 1.0 / 64);
  const auto t0 = PssCache::Clock::time_point() + seconds(1000);
  cache.Store(7, 100, 6400, Rollup(1234), t0);
  EXPECT_FALSE(cache.Lookup(7, 100, 6400, t0 + seconds(30)).has_value());  // max age
  EXPECT_FALSE(cache.Lookup(7, 100, 6501, t0).has_value());                // RSS grew
  EXPECT_FALSE(cache.Lookup(7, 100, 6299, t0).has_value());                // RSS shrank
  EXPECT_FALSE(cache.Lookup(7, 101, 6400, t0).has_value());                // pid reused
  EXPECT_FALSE(cache.Lookup(8, 100, 6400, t0).has_value());
  EXPECT_FALSE(cache.Lookup(7, 100, 6400, t0 - seconds(1)).has_value());  // clock went back
}

TEST(PssCacheTest, StaleEntriesAreDropped) {
  PssCache cache(seconds(30), 1.0 / 64);
  const auto t0 = PssCache::Clock::time_point() + seconds(1000);
  for (int64_t pid = 1; pid <= 100; ++pid) cache.Store(pid, 1, 4096, Rollup(1), t0);
  EXPECT_EQ(cache.size(), 100u);
  cache.Store(500, 1, 4096, Rollup(1), t0 + seconds(31));  // the others exited meanwhile
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.Lookup(500, 1, 4096, t0 + seconds(31)).has_value());
}

}  // namespace
}  // namespace gvisor_exporter
