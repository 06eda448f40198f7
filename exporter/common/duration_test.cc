#include "exporter/common/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>

namespace gvisor_exporter {
namespace {

using namespace std::chrono_literals;

TEST(ParseDurationTest, GoGrammar) {
  EXPECT_EQ(*ParseDuration("0"), 0ns);
  EXPECT_EQ(*ParseDuration("0s"), 0ns);
  EXPECT_EQ(*ParseDuration("500ms"), 500ms);
  EXPECT_EQ(*ParseDuration("5s"), 5s);
  EXPECT_EQ(*ParseDuration("1m30s"), 90s);
  EXPECT_EQ(*ParseDuration("2h45m"), 165min);
  EXPECT_EQ(*ParseDuration("1.5s"), 1500ms);
  EXPECT_EQ(*ParseDuration(".5s"), 500ms);
  EXPECT_EQ(*ParseDuration("5.s"), 5s);
  EXPECT_EQ(*ParseDuration("1.5h"), 90min);
  EXPECT_EQ(*ParseDuration("250us"), 250us);
  EXPECT_EQ(*ParseDuration("250\xC2\xB5s"), 250us);
  EXPECT_EQ(*ParseDuration("7ns"), 7ns);
  EXPECT_EQ(*ParseDuration("1h1m1s1ms1us1ns"), 1h + 1min + 1s + 1ms + 1us + 1ns);
}

TEST(ParseDurationTest, RejectsWithAMessage) {
  for (const char* bad : {"", "5", "5x", "s", ".s", ".", "1.2.3s", "-1s", "+1s", "1s ", " 1s", "1S",
                          "1m30", "9999999999999999999s", "3000000h"}) {
    StatusOr<std::chrono::nanoseconds> d = ParseDuration(bad);
    EXPECT_FALSE(d.ok()) << bad;
    if (!d.ok()) {
      EXPECT_NE(d.status().message().find("bad duration"), std::string::npos);
    }
  }
}

TEST(FormatDurationTest, ReadsBack) {
  EXPECT_EQ(FormatDuration(0ns), "0s");
  EXPECT_EQ(FormatDuration(5min), "5m");
  EXPECT_EQ(FormatDuration(90s), "1m30s");
  EXPECT_EQ(FormatDuration(500ms), "500ms");
  EXPECT_EQ(FormatDuration(1h + 2ms), "1h2ms");
  for (std::chrono::nanoseconds d :
       std::initializer_list<std::chrono::nanoseconds>{1ns, 1500ms, 36h, 61s + 7us}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(d)), d);
  }
}

}  // namespace
}  // namespace gvisor_exporter
