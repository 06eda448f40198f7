#include "exporter/common/ids.h"

#include <gtest/gtest.h>

#include <string>

namespace gvisor_exporter {
namespace {

TEST(IdsTest, AcceptsRuncAndCriIds) {
  EXPECT_TRUE(IsValidId("942a6d535a6efbf1f7593b877ae5da4b1aa9a4d5e15e33bdc8b8240cc216a467"));
  EXPECT_TRUE(IsValidId("gvr1"));
  EXPECT_TRUE(IsValidId("my_pod-1.app"));
}

TEST(IdsTest, RejectsUnsafe) {
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("."));
  EXPECT_FALSE(IsValidId(".."));
  EXPECT_FALSE(IsValidId("a/b"));
  EXPECT_FALSE(IsValidId("a b"));
  EXPECT_FALSE(IsValidId("a\"b"));
  EXPECT_FALSE(IsValidId(std::string("a\0b", 3)));
  EXPECT_FALSE(IsValidId("x{y}"));
  EXPECT_FALSE(IsValidId(std::string(kMaxIdLength + 1, 'a')));
  EXPECT_TRUE(IsValidId(std::string(kMaxIdLength, 'a')));
}

}  // namespace
}  // namespace gvisor_exporter
