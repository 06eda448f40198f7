#include "exporter/sources/kube/quantity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace gvisor_exporter {
namespace {

TEST(QuantityTest, ParsesEveryForm) {
  const std::pair<const char*, double> cases[] = {{"0", 0},
                                                  {"1", 1},
                                                  {"0.5", 0.5},
                                                  {"250m", 0.25},
                                                  {"100m", 0.1},
                                                  {"1.5", 1.5},
                                                  {".5", 0.5},
                                                  {"5.", 5},
                                                  {"+2", 2},
                                                  {"-2", -2},
                                                  {"1k", 1e3},
                                                  {"64M", 64e6},
                                                  {"1G", 1e9},
                                                  {"2T", 2e12},
                                                  {"1P", 1e15},
                                                  {"1E", 1e18},
                                                  {"500n", 5e-7},
                                                  {"3u", 3e-6},
                                                  {"1Ki", 1024},
                                                  {"120Mi", 120.0 * 1048576},
                                                  {"1Gi", 1073741824},
                                                  {"1.5Gi", 1.5 * 1073741824},
                                                  {"1Ti", 0x1p40},
                                                  {"1Pi", 0x1p50},
                                                  {"1Ei", 0x1p60},
                                                  {"1e3", 1e3},
                                                  {"1E3", 1e3},
                                                  {"2e-3", 2e-3},
                                                  {"1e+2", 100},
                                                  {"12e0", 12}};
  for (const auto& [in, want] : cases) {
    auto q = ParseQuantity(in);
    ASSERT_TRUE(q.ok()) << in << ": " << q.status().ToString();
    EXPECT_DOUBLE_EQ(*q, want) << in;
  }
}

TEST(QuantityTest, RejectsWhatIsNotAQuantity) {
  for (const char* bad : {"",     "Mi",  "-",   "+",   ".",   "1..2",  "1.2.3", "1 Mi", " 1",
                          "1 ",   "1mi", "1KI", "1Kb", "1e",  "1e+",   "1e1.5", "1ee3", "0x10",
                          "1Mi1", "1m2", "1,5", "NaN", "inf", "1e3Mi", "--1"}) {
    auto q = ParseQuantity(bad);
    ASSERT_FALSE(q.ok()) << bad;
    EXPECT_EQ(q.status().reason(), Reason::kParse) << bad;
  }
}

TEST(QuantityTest, BoundsLengthExponentAndMagnitude) {
  EXPECT_EQ(ParseQuantity(std::string(65, '1')).status().reason(), Reason::kTooLarge);
  EXPECT_TRUE(ParseQuantity("1e21").ok());
  EXPECT_EQ(ParseQuantity("2e21").status().reason(), Reason::kTooLarge);
  EXPECT_EQ(ParseQuantity("1e31").status().reason(), Reason::kTooLarge);
  EXPECT_EQ(ParseQuantity("1e99999999999").status().reason(), Reason::kTooLarge);
  EXPECT_EQ(ParseQuantity("1000000Ei").status().reason(), Reason::kTooLarge);
  EXPECT_TRUE(ParseQuantity("1e-30").ok());
  EXPECT_TRUE(ParseQuantity("8Ei").ok());
}

TEST(QuantityTest, MemoryBytesRoundUpAndRejectNegativeOrHuge) {
  EXPECT_EQ(*ParseMemoryBytes("120Mi"), 125829120u);
  EXPECT_EQ(*ParseMemoryBytes("64M"), 64000000u);
  EXPECT_EQ(*ParseMemoryBytes("1Gi"), 1073741824u);
  EXPECT_EQ(*ParseMemoryBytes("1.5"), 2u);  // Quantity.Value() rounds up
  EXPECT_EQ(*ParseMemoryBytes("100m"), 1u);
  EXPECT_EQ(*ParseMemoryBytes("0"), 0u);
  EXPECT_EQ(ParseMemoryBytes("-1Mi").status().reason(), Reason::kInvalid);
  EXPECT_EQ(ParseMemoryBytes("8Ei").status().reason(), Reason::kTooLarge);
  EXPECT_EQ(*ParseMemoryBytes("7Ei"), uint64_t{7} << 60);
}

TEST(QuantityTest, CpuCores) {
  EXPECT_DOUBLE_EQ(*ParseCpuCores("250m"), 0.25);
  EXPECT_DOUBLE_EQ(*ParseCpuCores("1"), 1);
  EXPECT_DOUBLE_EQ(*ParseCpuCores("0.5"), 0.5);
  EXPECT_DOUBLE_EQ(*ParseCpuCores("-0"), 0);
  EXPECT_FALSE(std::signbit(*ParseCpuCores("-0")));
  EXPECT_EQ(ParseCpuCores("-100m").status().reason(), Reason::kInvalid);
}

}  // namespace
}  // namespace gvisor_exporter
