#include "exporter/sources/host/procfs.h"

#include <gtest/gtest.h>

#include <string_view>

#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using testing::ReadFixture;

// Files captured from a real runsc 20221219 ptrace sandbox (testdata/README.md).
constexpr char kSentry[] = "exporter/sources/host/testdata/proc_ptrace/8680/";
constexpr char kGofer[] = "exporter/sources/host/testdata/proc_ptrace/8676/";
constexpr char kStub[] = "exporter/sources/host/testdata/proc_ptrace/8710/";

// Parses `text` and compares every field of the result with `want`.
void ExpectProcStat(std::string_view text, const ProcStat& want) {
  StatusOr<ProcStat> st = ParseProcStat(text);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->pid, want.pid);
  EXPECT_EQ(st->comm, want.comm);
  EXPECT_EQ(st->state, want.state);
  EXPECT_EQ(st->ppid, want.ppid);
  EXPECT_EQ(st->minflt, want.minflt);
  EXPECT_EQ(st->majflt, want.majflt);
  EXPECT_EQ(st->utime, want.utime);
  EXPECT_EQ(st->stime, want.stime);
  EXPECT_EQ(st->num_threads, want.num_threads);
  EXPECT_EQ(st->starttime, want.starttime);
  EXPECT_EQ(st->rss_pages, want.rss_pages);
}

TEST(ParseProcStatTest, RealSentry) {
  ExpectProcStat(ReadFixture(std::string(kSentry) + "stat"), {.pid = 8680,
                                                              .comm = "exe",
                                                              .state = 'S',
                                                              .ppid = 1,
                                                              .minflt = 4498,
                                                              .majflt = 0,
                                                              .utime = 3,
                                                              .stime = 3,
                                                              .num_threads = 14,
                                                              .starttime = 42368,
                                                              .rss_pages = 6235});
}

TEST(ParseProcStatTest, RssIsOptionalButNotMalformed) {
  std::string line = "8680 (exe) S";
  for (int field = 4; field <= 22; ++field) line += " " + std::to_string(field);
  StatusOr<ProcStat> st = ParseProcStat(line + "\n");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->starttime, 22u);
  EXPECT_FALSE(st->rss_pages.has_value());
  st = ParseProcStat(line + " 23 77 25\n");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->rss_pages, 77u);
  EXPECT_EQ(ParseProcStat(line + " 23 -7 25\n").status().reason(), Reason::kParse);
}

TEST(ParseProcStatTest, RealStubIsTraced) {
  StatusOr<ProcStat> st = ParseProcStat(ReadFixture(std::string(kStub) + "stat"));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, 't');
  EXPECT_EQ(st->ppid, 8699);
  EXPECT_EQ(st->minflt, 39u);
  EXPECT_EQ(st->num_threads, 3u);
  EXPECT_EQ(st->rss_pages, 317u);
}

TEST(ParseProcStatTest, CommWithParenthesesAndSpaces) {
  // A process may name itself anything up to 15 bytes, including ") (".
  ExpectProcStat("42 (a) (b) S 9 ) R 7 42 42 0 -1 4194560 11 0 12 0 13 14 0 0 20 0 5 0 999 0 0\n",
                 {.pid = 42,
                  .comm = "a) (b) S 9 ",
                  .state = 'R',
                  .ppid = 7,
                  .minflt = 11,
                  .majflt = 12,
                  .utime = 13,
                  .stime = 14,
                  .num_threads = 5,
                  .starttime = 999,
                  .rss_pages = 0});
}

TEST(ParseProcStatTest, RejectsTruncatedAndGarbled) {
  const std::string real = ReadFixture(std::string(kSentry) + "stat");
  // Cut inside field 21: starttime (22) missing.
  const size_t cut = real.find(" 42368 ");
  ASSERT_NE(cut, std::string::npos);
  EXPECT_EQ(ParseProcStat(real.substr(0, cut)).status().reason(), Reason::kParse);
  EXPECT_EQ(ParseProcStat("").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseProcStat("8680 (exe").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseProcStat("8680 (exe)").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseProcStat(")(").status().reason(), Reason::kParse);
  std::string garbled = real;
  garbled.replace(garbled.find(" 4498 "), 6, " 44x8 ");
  EXPECT_EQ(ParseProcStat(garbled).status().reason(), Reason::kParse);
  std::string double_space = real;
  double_space.replace(double_space.find(" 4498 "), 6, " 4498  ");
  EXPECT_EQ(ParseProcStat(double_space).status().reason(), Reason::kParse);
  EXPECT_EQ(ParseProcStat("-1 (x) S" + real.substr(real.find(')') + 2)).status().reason(),
            Reason::kParse);
}

TEST(ParseProcStatusTest, RealSentryLeader) {
  StatusOr<ProcStatus> st = ParseProcStatus(ReadFixture(std::string(kSentry) + "status"));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->threads, 14u);
  EXPECT_EQ(st->tracer_pid, 0);
  EXPECT_EQ(st->voluntary_ctxt_switches, 26u);
  EXPECT_EQ(st->nonvoluntary_ctxt_switches, 87u);
}

TEST(ParseProcStatusTest, RealStubIsTracedByASentryThread) {
  StatusOr<ProcStatus> st = ParseProcStatus(ReadFixture(std::string(kStub) + "status"));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, 't');
  EXPECT_EQ(st->tracer_pid, 8704);  // a thread of sentry 8680, not 8680 itself
}

TEST(ParseProcStatusTest, TruncatedLeavesFieldsUnset) {
  const std::string real = ReadFixture(std::string(kGofer) + "status");
  StatusOr<ProcStatus> st = ParseProcStatus(real.substr(0, real.find("Threads:")));
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->threads.has_value());
  EXPECT_FALSE(st->voluntary_ctxt_switches.has_value());
  EXPECT_TRUE(ParseProcStatus("").ok());
}

TEST(ParseProcStatusTest, RejectsGarbledValues) {
  EXPECT_EQ(ParseProcStatus("voluntary_ctxt_switches:\tlots\n").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseProcStatus("Threads:\t-3\n").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseProcStatus("State:\n").status().reason(), Reason::kParse);
  // Cut in the middle of a number is not detectable, but must not crash.
  EXPECT_TRUE(ParseProcStatus("nonvoluntary_ctxt_switches:\t1").ok());
}

TEST(ParseSmapsRollupTest, RealSentry) {
  StatusOr<SmapsRollup> r = ParseSmapsRollup(ReadFixture(std::string(kSentry) + "smaps_rollup"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rss, 25240u * 1024);
  EXPECT_EQ(r->pss, 7343u * 1024);
  EXPECT_EQ(r->pss_anon, 5401u * 1024);
  EXPECT_EQ(r->pss_file, 1690u * 1024);
  EXPECT_EQ(r->pss_shmem, 252u * 1024);
}

TEST(ParseSmapsRollupTest, OldKernelWithoutPssSplit) {
  StatusOr<SmapsRollup> r = ParseSmapsRollup(
      "00400000-7ffd88094000 ---p 00000000 00:00 0    [rollup]\nRss:  8 kB\nPss:  4 kB\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->pss, 4096u);
  EXPECT_FALSE(r->pss_anon.has_value());
}

TEST(ParseSmapsRollupTest, RejectsTruncatedAndGarbled) {
  const std::string real = ReadFixture(std::string(kGofer) + "smaps_rollup");
  EXPECT_EQ(ParseSmapsRollup(real.substr(0, real.find("Pss:"))).status().reason(), Reason::kParse);
  EXPECT_EQ(ParseSmapsRollup("").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseSmapsRollup("Rss: 1 kB\nPss: abc kB\n").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseSmapsRollup("Rss: 1 kB\nPss: 2 MB\n").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseSmapsRollup("Rss: 1 kB\nPss: 2\n").status().reason(), Reason::kParse);
  // kB * 1024 must not overflow.
  EXPECT_EQ(ParseSmapsRollup("Rss: 18446744073709551615 kB\nPss: 1 kB\n").status().reason(),
            Reason::kParse);
}

}  // namespace
}  // namespace gvisor_exporter
