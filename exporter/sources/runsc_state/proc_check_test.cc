#include "exporter/sources/runsc_state/proc_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "exporter/sources/runsc_state/test_util.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using testing::FakeProc;
using testing::ReadFixture;
using testing::TempDir;

// Captured from the real sandbox behind testdata/real_root (runsc 20221219).
const std::string kSentryCmdline =
    ReadFixture("exporter/sources/runsc_state/testdata/real_proc/5768/cmdline");
const std::string kGoferCmdline =
    ReadFixture("exporter/sources/runsc_state/testdata/real_proc/5764/cmdline");
const std::string kSentryStat =
    ReadFixture("exporter/sources/runsc_state/testdata/real_proc/5768/stat");

TEST(ProcCheckTest, RealSentryCmdline) {
  EXPECT_TRUE(IsSentryCmdline(kSentryCmdline, "gvst-pod1"));
  EXPECT_FALSE(IsSentryCmdline(kSentryCmdline, "gvst-pod"));  // prefix is not enough
  EXPECT_FALSE(IsSentryCmdline(kSentryCmdline, "gvst-pod10"));
  EXPECT_FALSE(IsSentryCmdline(kSentryCmdline, ""));
  EXPECT_FALSE(IsSentryCmdline(kGoferCmdline, "gvst-pod1"));
  // Without the trailing NUL (a process that rewrote its argv) it still parses.
  EXPECT_TRUE(IsSentryCmdline(kSentryCmdline.substr(0, kSentryCmdline.size() - 1), "gvst-pod1"));
}

TEST(ProcCheckTest, OtherCmdlines) {
  using namespace std::string_literals;
  EXPECT_FALSE(IsSentryCmdline("", "sb"));  // zombie
  EXPECT_FALSE(IsSentryCmdline("sleep\0sb\0"s, "sb"));
  EXPECT_FALSE(IsSentryCmdline("runsc-sandbox\0"s, "runsc-sandbox"));  // needs an argument
  EXPECT_TRUE(IsSentryCmdline("/usr/bin/runsc-sandbox\0boot\0sb\0"s, "sb"));
  EXPECT_FALSE(IsSentryCmdline("runsc-sandbox\0boot\0sb\0extra\0"s, "sb"));
  EXPECT_TRUE(IsGoferCmdline(kGoferCmdline));
  EXPECT_FALSE(IsGoferCmdline(kSentryCmdline));
  EXPECT_FALSE(IsGoferCmdline(""));
}

TEST(ProcCheckTest, StatStartTime) {
  uint64_t t = 0;
  ASSERT_TRUE(ParseStatStartTime(kSentryStat, &t));
  EXPECT_EQ(t, 31119u);
  // comm may hold spaces and ')': fields count from the last ')'.
  std::string tricky = "42 (a) b ) c) S 1 42 0";
  for (int field = 7; field < 22; ++field) tricky += " 9";
  ASSERT_TRUE(ParseStatStartTime(tricky + " 777 123 456\n", &t));
  EXPECT_EQ(t, 777u);
  EXPECT_FALSE(ParseStatStartTime(tricky, &t));  // cut before field 22
  EXPECT_FALSE(ParseStatStartTime("42 no paren S 1", &t));
  EXPECT_FALSE(ParseStatStartTime("", &t));
  std::string bad = "42 (x) S 1 42 0";
  for (int field = 7; field < 22; ++field) bad += " 0";
  EXPECT_FALSE(ParseStatStartTime(bad + " -5 1", &t));
}

TEST(ProcCheckTest, CheckSentryAgainstFakeProc) {
  TempDir tmp;
  FakeProc proc(tmp.Sub("proc"));
  proc.AddSentry(100, "sb1", 4242);
  proc.AddProcess(200, {"/usr/bin/python3", "server.py", "sb1"}, 5);  // pid reused
  proc.AddProcess(300, {}, 6);                                        // zombie
  proc.AddGofer(400);

  auto ok = CheckSentry(proc.root(), 100, "sb1");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, 4242u);
  EXPECT_EQ(CheckSentry(proc.root(), 100, "sb2").status().reason(), Reason::kNotFound);
  EXPECT_EQ(CheckSentry(proc.root(), 200, "sb1").status().reason(), Reason::kNotFound);
  EXPECT_EQ(CheckSentry(proc.root(), 300, "sb1").status().reason(), Reason::kNotFound);
  EXPECT_EQ(CheckSentry(proc.root(), 999, "sb1").status().reason(), Reason::kNotFound);
  EXPECT_EQ(CheckSentry(proc.root(), 0, "sb1").status().reason(), Reason::kNotFound);
  EXPECT_TRUE(IsGoferAlive(proc.root(), 400));
  EXPECT_FALSE(IsGoferAlive(proc.root(), 100));
  EXPECT_FALSE(IsGoferAlive(proc.root(), 999));
  EXPECT_FALSE(IsGoferAlive(proc.root(), 0));

  testing::WriteFile(proc.root() + "/100/stat", "garbage");
  EXPECT_EQ(CheckSentry(proc.root(), 100, "sb1").status().reason(), Reason::kParse);
}

TEST(ProcCheckTest, RealProcSelfIsNotASentry) {
  EXPECT_EQ(CheckSentry("/proc", ::getpid(), "sb1").status().reason(), Reason::kNotFound);
}

}  // namespace
}  // namespace gvisor_exporter
