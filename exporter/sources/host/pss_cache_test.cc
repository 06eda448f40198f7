#include "exporter/sources/host/pss_cache.h"

#include <gtest/gtest.h>

namespace gvisor_exporter {
namespace {

using std::chrono::seconds;
using Moment = PssCache::Moment;

const PssCache::Clock::time_point kT0 = PssCache::Clock::time_point() + seconds(1000);

SmapsRollup Rollup(uint64_t pss, uint64_t pss_file = 0) {
  SmapsRollup r;
  r.rss = 2 * pss;
  r.pss = pss;
  r.pss_file = pss_file;
  return r;
}

Moment At(uint64_t start, uint64_t rss, PssCache::Clock::duration after = {},
          uint64_t sharers = 0) {
  return Moment{.start_time = start, .stat_rss_bytes = rss, .sharers = sharers, .at = kT0 + after};
}

TEST(PssCacheTest, ReusedWhileYoungAndRssStill) {
  PssCache cache(seconds(30), 1.0 / 64);
  EXPECT_FALSE(cache.Lookup(7, At(100, 6400)).has_value());
  cache.Store(7, At(100, 6400), Rollup(1234));
  std::optional<SmapsRollup> hit = cache.Lookup(7, At(100, 6400, seconds(29)));
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->pss, 1234u);
  // Within 1/64 of the RSS it was read at, either way: still reused.
  EXPECT_TRUE(cache.Lookup(7, At(100, 6500, seconds(1))).has_value());
  EXPECT_TRUE(cache.Lookup(7, At(100, 6300, seconds(1))).has_value());
}

TEST(PssCacheTest, ReReadWhenOldMovedOrAnotherProcess) {
  PssCache cache(seconds(30), 1.0 / 64);
  cache.Store(7, At(100, 6400), Rollup(1234));
  EXPECT_FALSE(cache.Lookup(7, At(100, 6400, seconds(30))).has_value());  // max age
  EXPECT_FALSE(cache.Lookup(7, At(100, 6501)).has_value());               // RSS grew
  EXPECT_FALSE(cache.Lookup(7, At(100, 6299)).has_value());               // RSS shrank
  EXPECT_FALSE(cache.Lookup(7, At(101, 6400)).has_value());               // pid reused
  EXPECT_FALSE(cache.Lookup(8, At(100, 6400)).has_value());
  EXPECT_FALSE(cache.Lookup(7, At(100, 6400, -seconds(1))).has_value());  // clock went back
}

TEST(PssCacheTest, ReReadWhenTheSharersMoveItsShareOfRunscPages) {
  PssCache cache(seconds(300), 1.0 / 64);
  // 4 runsc processes (2 sandboxes): 4 MiB of its 10 MiB PSS is its share of
  // runsc's pages. A fifth process takes a fifth of that share (0.8 MiB, 8%).
  cache.Store(7, At(100, 6400, {}, 4), Rollup(10 << 20, 4 << 20));
  EXPECT_TRUE(cache.Lookup(7, At(100, 6400, seconds(1), 4)).has_value());
  EXPECT_FALSE(cache.Lookup(7, At(100, 6400, seconds(1), 5)).has_value());
  EXPECT_FALSE(cache.Lookup(7, At(100, 6400, seconds(1), 3)).has_value());
  // Unknown counts (0) never force a re-read.
  EXPECT_TRUE(cache.Lookup(7, At(100, 6400, seconds(1), 0)).has_value());

  // 400 processes: its share is 50 KiB of 7 MiB; even 20 more move it by
  // ~2.4 KiB, far below 1/64 (~112 KiB). 100 more would (10 KiB: still not).
  cache.Store(8, At(100, 6400, {}, 400), Rollup(7 << 20, 50 << 10));
  EXPECT_TRUE(cache.Lookup(8, At(100, 6400, seconds(1), 420)).has_value());
  EXPECT_TRUE(cache.Lookup(8, At(100, 6400, seconds(1), 500)).has_value());
  // A rollup without Pss_File (kernels before 5.3): the count cannot matter.
  cache.Store(9, At(100, 6400, {}, 4), Rollup(10 << 20));
  EXPECT_TRUE(cache.Lookup(9, At(100, 6400, seconds(1), 40)).has_value());
}

TEST(PssCacheTest, StaleEntriesAreDropped) {
  PssCache cache(seconds(30), 1.0 / 64);
  for (int64_t pid = 1; pid <= 100; ++pid) cache.Store(pid, At(1, 4096), Rollup(1));
  EXPECT_EQ(cache.size(), 100u);
  cache.Store(500, At(1, 4096, seconds(31)), Rollup(1));  // the others exited meanwhile
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.Lookup(500, At(1, 4096, seconds(31))).has_value());
}

}  // namespace
}  // namespace gvisor_exporter
