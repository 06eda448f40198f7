// Checks this module against one real runsc sandbox. Needs root and runsc
// (skipped otherwise; CI has both).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "exporter/common/subprocess.h"
#include "exporter/sources/host/cgroup.h"
#include "exporter/sources/host/host_reader.h"
#include "exporter/sources/host/platform.h"
#include "exporter/sources/host/proc_reader.h"
#include "exporter/testing/real_sandbox.h"
#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter {
namespace {

using testing::ReadFile;
using testing::RealSandboxEnv;
using Clock = std::chrono::steady_clock;

bool CgroupV2Host() { return access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0; }

// Ground truth, read without this module's code: the sandbox cgroup's members.
std::set<int64_t> CgroupProcs(const std::string& cgroup_path) {
  const std::string dir = CgroupV2Host() ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
  std::istringstream in(ReadFile(dir + cgroup_path + "/cgroup.procs"));
  std::set<int64_t> out;
  for (int64_t pid; in >> pid;) out.insert(pid);
  return out;
}

uint64_t CgroupMemoryUsage(const std::string& cgroup_path) {
  const std::string file = CgroupV2Host()
                               ? "/sys/fs/cgroup" + cgroup_path + "/memory.current"
                               : "/sys/fs/cgroup/memory" + cgroup_path + "/memory.usage_in_bytes";
  return std::stoull(ReadFile(file));
}

// Σ "Pss:" of smaps_rollup, parsed here with sscanf (independent of procfs.cc).
uint64_t DirectPssBytes(const std::set<int64_t>& pids) {
  uint64_t total = 0;
  for (int64_t pid : pids) {
    std::istringstream in(ReadFile("/proc/" + std::to_string(pid) + "/smaps_rollup"));
    for (std::string line; std::getline(in, line);) {
      unsigned long long kb = 0;
      if (std::sscanf(line.c_str(), "Pss: %llu kB", &kb) == 1) total += kb * 1024;
    }
  }
  return total;
}

std::set<int64_t> Pids(const std::vector<ProcessRef>& refs) {
  std::set<int64_t> out;
  for (const ProcessRef& r : refs) out.insert(r.pid);
  return out;
}

class RealSandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = RealSandboxEnv::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    env_ = std::make_unique<RealSandboxEnv>("gve-host-test");
    id_ = RealSandboxEnv::UniqueId("gvehost");
    Status started = env_->Start(id_);
    ASSERT_TRUE(started.ok()) << started.ToString();
    cgroup_path_ = env_->CgroupsPath(id_);
    nlohmann::json state = env_->StateFile(id_);
    ASSERT_TRUE(state.is_object()) << env_->Log(id_);
    info_.id = id_;
    info_.pid = state["sandbox"]["pid"].get<int64_t>();
    ContainerInfo c;
    c.id = id_;
    c.gofer_pid = state["goferPid"].get<int64_t>();
    info_.containers.push_back(c);
    StatusOr<ProcStat> st = ParseProcStat(ReadFile("/proc/" + std::to_string(info_.pid) + "/stat"));
    ASSERT_TRUE(st.ok());
    info_.pid_start_time = st->starttime;
    cgroup_ =
        CgroupRef{CgroupV2Host() ? CgroupRef::Kind::kV2 : CgroupRef::Kind::kV1, cgroup_path_, ""};
    // The app (sleep) runs in a stub: wait until sentry, gofer and stubs exist.
    for (int i = 0; i < 100 && CgroupProcs(cgroup_path_).size() < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  static std::string RunscVersion() {
    StatusOr<CommandResult> r =
        RunCommand({"runsc", "--version"}, std::chrono::seconds(10), 1 << 16);
    return r.ok() ? r->stdout_data : "";
  }

  std::unique_ptr<RealSandboxEnv> env_;
  std::string id_;
  std::string cgroup_path_;  // /gve-host-test/<id>
  SandboxInfo info_;
  CgroupRef cgroup_;
};

TEST_F(RealSandboxTest, HostCostMatchesTheCgroup) {
  ProcReader reader;
  // Same set as the cgroup's members. Processes may come and go between the
  // two reads (a new stub): retry a few times before calling it a mismatch.
  std::set<int64_t> found, truth;
  for (int attempt = 0; attempt < 10; ++attempt) {
    found = Pids(reader.FindSandboxProcesses(info_));
    truth = CgroupProcs(cgroup_path_);
    if (found == truth) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(found, truth);
  EXPECT_GE(found.size(), 3u) << "sentry, gofer and at least one stub";
  std::vector<ProcessRef> refs = reader.FindSandboxProcesses(info_);
  ASSERT_GE(refs.size(), 3u);
  EXPECT_EQ(refs[0].pid, info_.pid);
  EXPECT_EQ(refs[0].role, ProcessRole::kSentry);
  EXPECT_EQ(refs[1].pid, info_.containers[0].gofer_pid);
  EXPECT_EQ(refs[1].role, ProcessRole::kGofer);
  EXPECT_EQ(refs[2].role, ProcessRole::kStub);

  // Σ PSS within 5% of Σ Pss read directly.
  std::vector<Status> errors;
  std::vector<HostProcess> procs = reader.ReadSandbox(info_, &errors);
  EXPECT_TRUE(errors.empty()) << errors[0].ToString();
  uint64_t pss = 0;
  for (const HostProcess& p : procs) pss += p.pss_bytes;
  const double direct = static_cast<double>(DirectPssBytes(truth));
  EXPECT_NEAR(static_cast<double>(pss), direct, direct * 0.05);

  // Thread sum vs the leader's own status line (reported, and sanity-checked).
  ProcReaderOptions leader_only;
  leader_only.sum_thread_ctxt_switches = false;
  StatusOr<HostProcess> leader = ProcReader(leader_only).Read(info_.pid, ProcessRole::kSentry);
  ASSERT_TRUE(leader.ok());
  ASSERT_FALSE(procs.empty());
  EXPECT_GE(procs[0].voluntary_ctxt_switches, leader->voluntary_ctxt_switches);
  std::printf("sentry ctxt switches: leader %llu/%llu, sum over %llu threads %llu/%llu\n",
              static_cast<unsigned long long>(leader->voluntary_ctxt_switches),
              static_cast<unsigned long long>(leader->nonvoluntary_ctxt_switches),
              static_cast<unsigned long long>(procs[0].threads),
              static_cast<unsigned long long>(procs[0].voluntary_ctxt_switches),
              static_cast<unsigned long long>(procs[0].nonvoluntary_ctxt_switches));

  // The cgroup reader agrees with the file read directly.
  StatusOr<HostCgroup> cg = CgroupReader().Read(cgroup_);
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  const double usage = static_cast<double>(CgroupMemoryUsage(cgroup_path_));
  ASSERT_TRUE(cg->memory_usage_bytes.has_value());
  EXPECT_NEAR(static_cast<double>(*cg->memory_usage_bytes), usage, usage * 0.05);
  EXPECT_GT(cg->cpu_usage_seconds.value_or(0), 0.0);

  // The poller's view through HostReader.
  HostReaderOptions options;
  options.runsc_version = RunscVersion();
  StatusOr<std::vector<HostProcess>> via_facade = HostReader(options).Processes(info_);
  ASSERT_TRUE(via_facade.ok()) << via_facade.status().ToString();
  EXPECT_EQ(via_facade->size(), procs.size());

  // Platform from the real command line.
  StatusOr<std::vector<std::string>> argv = ReadCmdline("/proc", info_.pid);
  ASSERT_TRUE(argv.ok());
  SandboxPlatform platform = PlatformFromCmdline(*argv, RunscVersion());
  EXPECT_EQ(platform.platform, "ptrace");
  EXPECT_EQ(platform.network, "none");
}

// Average microseconds of `fn` over `rounds` calls.
template <typename Fn>
double MicrosPerCall(int rounds, Fn fn) {
  const auto t0 = Clock::now();
  for (int i = 0; i < rounds; ++i) fn();
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / rounds;
}

TEST_F(RealSandboxTest, CostOfOnePoll) {
  constexpr int kRounds = 200;
  ProcReader reader;
  ProcReaderOptions leader_only;
  leader_only.sum_thread_ctxt_switches = false;
  ProcReader cheap(leader_only);
  CgroupReader cgroups;
  const size_t n = reader.ReadSandbox(info_).size();
  const double all = MicrosPerCall(kRounds, [&] { reader.ReadSandbox(info_); });
  const double find = MicrosPerCall(kRounds, [&] { reader.FindSandboxProcesses(info_); });
  const double leader = MicrosPerCall(kRounds, [&] { cheap.ReadSandbox(info_); });
  const double cg = MicrosPerCall(kRounds, [&] { ASSERT_TRUE(cgroups.Read(cgroup_).ok()); });
  std::printf(
      "per poll of one sandbox (%zu processes): ReadSandbox %.0f us (discovery %.0f us; "
      "%.0f us with leader-only ctxt switches), cgroup %.0f us\n",
      n, all, find, leader, cg);
  RecordProperty("read_sandbox_us", static_cast<int>(all));
  RecordProperty("cgroup_us", static_cast<int>(cg));
}

TEST_F(RealSandboxTest, ReadsFailCleanlyOnceKilled) {
  ProcReader reader;
  ASSERT_FALSE(reader.FindSandboxProcesses(info_).empty());
  env_->Kill(id_);
  const int64_t gofer = info_.containers[0].gofer_pid;
  for (int i = 0; i < 100; ++i) {
    if (access(("/proc/" + std::to_string(info_.pid)).c_str(), F_OK) != 0 &&
        access(("/proc/" + std::to_string(gofer)).c_str(), F_OK) != 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(reader.Read(info_.pid, ProcessRole::kSentry, info_.pid_start_time).status().reason(),
            Reason::kNotFound);
  EXPECT_TRUE(reader.FindSandboxProcesses(info_).empty());
  std::vector<Status> errors;
  EXPECT_TRUE(reader.ReadSandbox(info_, &errors).empty());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(ReadCmdline("/proc", info_.pid).status().reason(), Reason::kNotFound);
  EXPECT_EQ(HostReader(HostReaderOptions{}).Processes(info_).status().reason(), Reason::kNotFound);
  env_->Destroy(id_);
  EXPECT_EQ(CgroupReader().Read(cgroup_).status().reason(), Reason::kNotFound);
}

}  // namespace
}  // namespace gvisor_exporter
