#include "exporter/sources/host/proc_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "exporter/sources/host/test_util.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using host_test::TempDir;
using ::testing::ElementsAre;
using testing::FixturePath;
using ::testing::IsEmpty;

constexpr char kProcPtrace[] = "exporter/sources/host/testdata/proc_ptrace";

// testdata/proc_ptrace: /proc files of a real runsc 20221219 ptrace sandbox
// (sentry 8680, gofer 8676, stubs 8699 -> {8710, 9899} found through
// task/*/children of sentry thread 8680 and stub threads 8709 / 9898).
SandboxInfo RealSandbox() {
  SandboxInfo sb;
  sb.id = "gvhptrace";
  sb.pid = 8680;
  sb.pid_start_time = 42368;
  ContainerInfo c;
  c.id = "gvhptrace";
  c.gofer_pid = 8676;
  sb.containers.push_back(c);
  return sb;
}

ProcessRef Ref(int64_t pid, ProcessRole role, std::string cid = "") {
  return ProcessRef{pid, role, std::move(cid)};
}

TEST(ProcReaderTest, FindsSentryGoferAndStubsOfRealTree) {
  ProcReader reader(FixturePath(kProcPtrace));
  EXPECT_THAT(
      reader.FindSandboxProcesses(RealSandbox()),
      ElementsAre(Ref(8680, ProcessRole::kSentry), Ref(8676, ProcessRole::kGofer, "gvhptrace"),
                  Ref(8699, ProcessRole::kStub), Ref(8710, ProcessRole::kStub),
                  Ref(9899, ProcessRole::kStub)));
}

TEST(ProcReaderTest, ReadsRealSentry) {
  ProcReader reader(FixturePath(kProcPtrace));
  StatusOr<HostProcess> p = reader.Read(8680, ProcessRole::kSentry, 42368);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->pss_bytes, 7343u * 1024);
  EXPECT_EQ(p->rss_bytes, 25240u * 1024);
  EXPECT_EQ(p->pss_anon_bytes, 5401u * 1024);
  EXPECT_EQ(p->threads, 14u);
  EXPECT_EQ(p->minor_faults, 4498u);
  EXPECT_DOUBLE_EQ(p->cpu_user_seconds, 3.0 / static_cast<double>(sysconf(_SC_CLK_TCK)));
  // Sum over the 14 threads, not the leader's own 26 / 87.
  EXPECT_EQ(p->voluntary_ctxt_switches, 948u);
  EXPECT_EQ(p->nonvoluntary_ctxt_switches, 285u);
}

TEST(ProcReaderTest, LeaderOnlyContextSwitchesWhenAsked) {
  ProcReaderOptions opt;
  opt.proc_root = FixturePath(kProcPtrace);
  opt.sum_thread_ctxt_switches = false;
  StatusOr<HostProcess> p = ProcReader(opt).Read(8680, ProcessRole::kSentry);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->voluntary_ctxt_switches, 26u);
  EXPECT_EQ(p->nonvoluntary_ctxt_switches, 87u);
}

TEST(ProcReaderTest, ReadSandboxSumsPss) {
  std::vector<Status> errors;
  std::vector<HostProcess> procs =
      ProcReader(FixturePath(kProcPtrace)).ReadSandbox(RealSandbox(), &errors);
  EXPECT_THAT(errors, IsEmpty());
  ASSERT_EQ(procs.size(), 5u);
  EXPECT_EQ(procs[0].role, ProcessRole::kSentry);
  EXPECT_EQ(procs[1].container_id, "gvhptrace");
  uint64_t pss = 0;
  for (const HostProcess& p : procs) pss += p.pss_bytes;
  EXPECT_EQ(pss, (7343u + 4673u + 1u + 1019u + 1u) * 1024);
}

TEST(ProcReaderTest, ReusedSentryPidIsGone) {
  SandboxInfo sb = RealSandbox();
  sb.pid_start_time = 1;  // another incarnation of pid 8680
  ProcReader reader(FixturePath(kProcPtrace));
  // Neither the sentry nor its (someone else's) descendants; the gofer still
  // proves itself by its own command line.
  EXPECT_THAT(reader.FindSandboxProcesses(sb),
              ElementsAre(Ref(8676, ProcessRole::kGofer, "gvhptrace")));
  EXPECT_EQ(reader.Read(8680, ProcessRole::kSentry, 1).status().reason(), Reason::kNotFound);
}

TEST(ProcReaderTest, WithoutStartTimeTheSentryMustRunBoot) {
  SandboxInfo sb = RealSandbox();
  sb.pid_start_time = 0;
  sb.pid = 8676;  // the gofer's pid: not a sentry
  sb.containers.clear();
  EXPECT_THAT(ProcReader(FixturePath(kProcPtrace)).FindSandboxProcesses(sb), IsEmpty());
}

TEST(ProcReaderTest, GoferPidThatIsNotAGoferIsSkipped) {
  SandboxInfo sb = RealSandbox();
  sb.containers[0].gofer_pid = 8699;  // a stub: empty cmdline
  ContainerInfo dead, gone;
  dead.id = "dead";  // gofer_pid 0: unknown
  gone.id = "gone";
  gone.gofer_pid = 424242;
  sb.containers.push_back(dead);
  sb.containers.push_back(gone);
  std::vector<ProcessRef> refs = ProcReader(FixturePath(kProcPtrace)).FindSandboxProcesses(sb);
  ASSERT_EQ(refs.size(), 4u);
  EXPECT_EQ(refs[1], Ref(8699, ProcessRole::kStub));  // found as a descendant instead
}

// A copy of testdata/proc_ptrace whose sentry's smaps_rollup can be rewritten,
// and a reader of it that keeps rollups for an hour.
struct CachingReaderOfACopy {
  TempDir tmp;
  ProcReader reader{[this] {
    tmp.CopyTree(FixturePath(kProcPtrace), "proc");
    ProcReaderOptions opt;
    opt.proc_root = tmp.path() + "/proc";
    opt.pss_max_age = std::chrono::hours(1);
    return opt;
  }()};
  // The sentry's smaps_rollup now says `kb` kB of Pss (it said `was`).
  void SetSentryPss(const std::string& was, const std::string& kb) {
    std::string rollup = testing::ReadFile(tmp.path() + "/proc/8680/smaps_rollup");
    rollup.replace(rollup.find(was + " kB"), was.size() + 3, kb + " kB");
    tmp.Write("proc/8680/smaps_rollup", rollup);
  }
};

// With pss_max_age, the sentry's smaps_rollup is read once and reused until
// its stat RSS moves by more than the tolerance; RSS itself is always fresh.
TEST(ProcReaderTest, PssIsReusedUntilRssMoves) {
  CachingReaderOfACopy c;
  TempDir& tmp = c.tmp;
  const ProcReader& cached = c.reader;
  ProcReader uncached(tmp.path() + "/proc");
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  ASSERT_EQ(cached.Read(8680, ProcessRole::kSentry, 42368)->pss_bytes, 7343u * 1024);

  c.SetSentryPss("7343", "9999");
  StatusOr<HostProcess> p = cached.Read(8680, ProcessRole::kSentry, 42368);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->pss_bytes, 7343u * 1024);  // the cached rollup
  EXPECT_EQ(p->rss_bytes, 6235u * page);  // stat's RSS (6235 pages)
  EXPECT_EQ(uncached.Read(8680, ProcessRole::kSentry, 42368)->pss_bytes, 9999u * 1024);

  // RSS moves by ~3% (> 1/64): the rollup is read again.
  std::string stat = testing::ReadFile(tmp.path() + "/proc/8680/stat");
  stat.replace(stat.find(" 6235 "), 6, " 6435 ");
  tmp.Write("proc/8680/stat", stat);
  p = cached.Read(8680, ProcessRole::kSentry, 42368);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->pss_bytes, 9999u * 1024);
  EXPECT_EQ(p->rss_bytes, 25240u * 1024);  // smaps_rollup's, read with it
}

// The processes of a sandbox share memory (the stubs map the sentry's memory
// file): when one of them must be re-read, so are the others.
TEST(ProcReaderTest, PssOfASandboxIsReReadTogether) {
  CachingReaderOfACopy c;
  const ProcReader& reader = c.reader;
  const std::vector<ProcessRef> refs = {ProcessRef{8680, ProcessRole::kSentry, "", 42368},
                                        Ref(8699, ProcessRole::kStub)};
  ASSERT_EQ(reader.ReadMany(refs)[0]->pss_bytes, 7343u * 1024);

  c.SetSentryPss("7343", "9999");
  EXPECT_EQ(reader.ReadMany(refs)[0]->pss_bytes, 7343u * 1024);  // nothing moved

  // Only the stub's RSS moves (by far more than 1/64): the sentry is re-read.
  std::string stat = testing::ReadFile(c.tmp.path() + "/proc/8699/stat");
  const std::string rss = " 42375 4096 0 ";  // starttime, vsize, rss (pages)
  ASSERT_NE(stat.find(rss), std::string::npos);
  stat.replace(stat.find(rss), rss.size(), " 42375 4096 500 ");
  c.tmp.Write("proc/8699/stat", stat);
  std::vector<StatusOr<HostProcess>> read = reader.ReadMany(refs);
  ASSERT_TRUE(read[0].ok()) << read[0].status().ToString();
  EXPECT_EQ(read[0]->pss_bytes, 9999u * 1024);
}

// A sentry's Pss_File is its share of runsc's own pages, which every sentry
// and gofer of the node maps: when their number moves enough to change that
// share by more than 1/64 of its PSS, the rollup is re-read.
TEST(ProcReaderTest, PssIsReReadWhenTheNodesRunscProcessesChange) {
  CachingReaderOfACopy c;
  const ProcReader& reader = c.reader;
  const std::vector<ProcessRef> refs = {ProcessRef{8680, ProcessRole::kSentry, "", 42368},
                                        Ref(8676, ProcessRole::kGofer)};
  ASSERT_EQ(reader.ReadMany(refs)[0]->pss_bytes, 7343u * 1024);  // sharers not known yet
  reader.EndRound();  // this round read 2 runsc processes
  c.SetSentryPss("7343", "9999");
  EXPECT_EQ(reader.ReadMany(refs)[0]->pss_bytes, 7343u * 1024);  // cached; 2 is its baseline
  reader.EndRound();
  EXPECT_EQ(reader.ReadMany(refs)[0]->pss_bytes, 7343u * 1024);  // still 2
  // Another sandbox's sentry and gofer too: 4 sharers. 1690 kB of runsc pages
  // were shared by 2, now by 4: ~845 kB less, far over 1/64 of 7343 kB.
  reader.ReadMany(refs);
  reader.EndRound();
  EXPECT_EQ(reader.ReadMany(refs)[0]->pss_bytes, 9999u * 1024);
  reader.ReadMany(refs);  // still 4 this round
  reader.EndRound();
  c.SetSentryPss("9999", "8888");
  EXPECT_EQ(reader.ReadMany(refs)[0]->pss_bytes, 9999u * 1024);  // read at 4, now 4: cached
}

TEST(ProcReaderTest, VanishedProcessesAreSkippedQuietly) {
  TempDir tmp;
  tmp.CopyTree(FixturePath(kProcPtrace), "proc");
  // 8710 died after its parent's children file was read; 55555 too.
  std::filesystem::remove_all(tmp.path() + "/proc/8710");
  tmp.Write("proc/8699/task/8701/children", "55555 ");
  ProcReader reader(tmp.path() + "/proc");
  std::vector<Status> errors;
  std::vector<HostProcess> procs = reader.ReadSandbox(RealSandbox(), &errors);
  EXPECT_THAT(errors, IsEmpty());
  EXPECT_EQ(procs.size(), 4u);
  EXPECT_EQ(reader.Read(8710, ProcessRole::kStub).status().reason(), Reason::kNotFound);
  // A zombie, or a process whose smaps_rollup is already empty, is gone too.
  tmp.Write("proc/9899/smaps_rollup", "");
  EXPECT_EQ(reader.Read(9899, ProcessRole::kStub).status().reason(), Reason::kNotFound);
  std::string stat = testing::ReadFile(tmp.path() + "/proc/8699/stat");
  stat.replace(stat.find(") t "), 4, ") Z ");
  tmp.Write("proc/8699/stat", stat);
  EXPECT_EQ(reader.Read(8699, ProcessRole::kStub).status().reason(), Reason::kNotFound);
}

TEST(ProcReaderTest, BrokenFilesAreReportedNotSkipped) {
  TempDir tmp;
  tmp.CopyTree(FixturePath(kProcPtrace), "proc");
  tmp.Write("proc/8676/smaps_rollup", "Rss: 12 kB\nPss: twelve kB\n");
  tmp.Write("proc/8710/task/8712/status", "Name:\texe\nState:\tt (tracing stop)\n");  // truncated
  tmp.Write("proc/9899/stat", std::string(8192, '9'));                                // huge
  ProcReader reader(tmp.path() + "/proc");
  EXPECT_EQ(reader.Read(8676, ProcessRole::kGofer).status().reason(), Reason::kParse);
  EXPECT_EQ(reader.Read(8710, ProcessRole::kStub).status().reason(), Reason::kParse);
  EXPECT_EQ(reader.Read(9899, ProcessRole::kStub).status().reason(), Reason::kTooLarge);
  std::vector<Status> errors;
  std::vector<HostProcess> procs = reader.ReadSandbox(RealSandbox(), &errors);
  EXPECT_EQ(procs.size(), 2u);  // sentry and 8699
  EXPECT_EQ(errors.size(), 3u);
  EXPECT_EQ(reader.Read(0, ProcessRole::kStub).status().reason(), Reason::kInvalid);
  EXPECT_EQ(reader.Read(-5, ProcessRole::kStub).status().reason(), Reason::kInvalid);
}

// Writes a minimal live process <pid> whose only thread has `children`.
void WriteProc(const TempDir& tmp, int64_t pid, int64_t ppid, const std::string& children,
               const std::string& cmdline = "") {
  const std::string dir = "proc/" + std::to_string(pid) + "/";
  tmp.Write(dir + "stat", std::to_string(pid) + " (exe) S " + std::to_string(ppid) +
                              " 1 1 0 -1 0 1 0 0 0 1 1 0 0 20 0 1 0 " + std::to_string(1000 + pid) +
                              " 0 0\n");
  tmp.Write(dir + "cmdline", cmdline);
  tmp.Write(dir + "task/" + std::to_string(pid) + "/children", children);
}

TEST(ProcReaderTest, DescendantsAreBoundedDeduplicatedAndClassified) {
  TempDir tmp;
  // 10 -> 11 -> 12 -> ... -> 30 (a chain deeper than max_depth), 11 also
  // lists the sentry and itself (a cycle), 10 has a non-stub helper child 99.
  WriteProc(tmp, 10, 1, "11 99 ", std::string("runsc-sandbox\0boot\0id\0", 22));
  WriteProc(tmp, 99, 10, "", std::string("/proc/self/exe\0umount\0", 22));
  for (int pid = 11; pid <= 30; ++pid) {
    WriteProc(tmp, pid, pid - 1, pid == 11 ? "12 10 11" : std::to_string(pid + 1));
  }
  SandboxInfo sb;
  sb.pid = 10;
  sb.pid_start_time = 1010;
  ProcReaderOptions opt;
  opt.proc_root = tmp.path() + "/proc";
  std::vector<ProcessRef> refs = ProcReader(opt).FindSandboxProcesses(sb);
  ASSERT_EQ(refs.size(), 1u + 1u + 8u);  // sentry, helper, 8 generations
  EXPECT_EQ(refs[1], Ref(11, ProcessRole::kStub));
  EXPECT_EQ(refs[2], Ref(99, ProcessRole::kOther));
  EXPECT_EQ(refs.back(), Ref(18, ProcessRole::kStub));

  opt.max_descendants = 3;
  EXPECT_EQ(ProcReader(opt).FindSandboxProcesses(sb).size(), 1u + 3u);
}

}  // namespace
}  // namespace gvisor_exporter
