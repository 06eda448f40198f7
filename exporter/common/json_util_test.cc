#include "exporter/common/json_util.h"

#include <gtest/gtest.h>

#include <string>

namespace gvisor_exporter {
namespace {

TEST(JsonUtilTest, ParsesAndReadsFields) {
  auto j = ParseJson(R"({"a":1,"b":"x","c":-2,"d":[{"e":{}}]})");
  ASSERT_TRUE(j.ok());
  uint64_t u;
  int64_t i;
  std::string s;
  EXPECT_TRUE(GetUint(*j, "a", &u));
  EXPECT_EQ(u, 1u);
  EXPECT_FALSE(GetUint(*j, "c", &u));
  EXPECT_TRUE(GetInt(*j, "c", &i));
  EXPECT_EQ(i, -2);
  EXPECT_TRUE(GetString(*j, "b", &s));
  EXPECT_FALSE(GetString(*j, "a", &s));
  EXPECT_FALSE(GetUint(*j, "missing", &u));
  EXPECT_EQ(JsonNestingDepth(R"({"d":[{"e":{}}]})", 64), 4u);
}

TEST(JsonUtilTest, StringsDoNotCountAsNesting) {
  EXPECT_EQ(JsonNestingDepth(R"({"a":"[[[[\"{{{{"})", 64), 1u);
}

TEST(JsonUtilTest, RejectsDeepNestingWithoutRecursing) {
  std::string deep(1000000, '[');
  auto j = ParseJson(deep);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().reason(), Reason::kTooLarge);
}

TEST(JsonUtilTest, RejectsGarbageAndTrailingData) {
  EXPECT_EQ(ParseJson("{\"a\":").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseJson("{} {}").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseJson("").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseJson(std::string("\xff\xfe", 2)).status().reason(), Reason::kParse);
  EXPECT_EQ(ParseJson(std::string("{\"a\":1}\0garbage", 15)).status().reason(), Reason::kParse);
}

}  // namespace
}  // namespace gvisor_exporter
