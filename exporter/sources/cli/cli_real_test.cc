// The control socket and the CLI against the same REAL sandbox (root + runsc
// required, else skipped).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "exporter/common/subprocess.h"
#include "exporter/sources/cli/runsc_cli.h"
#include "exporter/sources/control/control_client.h"
#include "exporter/sources/control/usage_parser.h"
#include "exporter/testing/real_sandbox.h"

namespace gvisor_exporter {
namespace {

using testing::RealSandboxEnv;
using Clock = std::chrono::steady_clock;

class RealSandboxCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = RealSandboxEnv::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    env_ = std::make_unique<RealSandboxEnv>("gve-ctl-test");
  }
  std::unique_ptr<RealSandboxEnv> env_;
};

TEST_F(RealSandboxCliTest, ControlSocketAndCliAgree) {
  const std::string id = RealSandboxEnv::UniqueId("gvectl");
  ASSERT_TRUE(env_->StartCriSandbox(id).ok());
  const SandboxInfo sb = env_->Info(id);
  ControlSocketClient control;
  RunscCli cli;

  auto over_socket = control.Collect(sb, false);
  ASSERT_TRUE(over_socket.ok()) << over_socket.status().ToString();
  auto usage_out = env_->Runsc({"usage", id});
  ASSERT_TRUE(usage_out.ok());
  auto runsc_usage = ParseUsageOutput(*usage_out, false);
  ASSERT_TRUE(runsc_usage.ok());
  auto events_out = env_->Runsc({"events", "-stats", id});
  ASSERT_TRUE(events_out.ok());
  auto runsc_events = ParseEventsStatsOutput(*events_out);
  ASSERT_TRUE(runsc_events.ok());

  const auto cli_start = Clock::now();
  auto over_cli = cli.Collect(sb, false);
  const auto cli_cost = Clock::now() - cli_start;
  ASSERT_TRUE(over_cli.ok()) << over_cli.status().ToString();
  std::printf("RunscCli::Collect (2 execs): %.1f ms\n",
              std::chrono::duration<double, std::milli>(cli_cost).count());

  // An idle sleep sandbox is stable (measured): exact equality.
  EXPECT_EQ(over_socket->memory->total, runsc_usage->total);
  EXPECT_EQ(over_cli->memory->total, runsc_usage->total);
  EXPECT_EQ(over_socket->memory->unknown, over_cli->memory->unknown);
  EXPECT_EQ(over_socket->pids, (*runsc_events)[0].pids);
  EXPECT_EQ(over_cli->pids, (*runsc_events)[0].pids);
  EXPECT_EQ(over_socket->container_cpu_ns.count(id), 1u);
  EXPECT_EQ(over_cli->path, StatsPath::kCli);
  EXPECT_TRUE(over_cli->container_cpu_ns.empty());

  auto full = cli.Collect(sb, true);
  ASSERT_TRUE(full.ok());
  EXPECT_TRUE(full->memory->full);
  EXPECT_EQ(full->memory->total, runsc_usage->total);

  env_->Destroy(id);
  auto socket_gone = control.Collect(sb, false);
  EXPECT_EQ(socket_gone.status().reason(), Reason::kUnavailable) << socket_gone.status().ToString();
  auto cli_gone = cli.Collect(sb, false);
  EXPECT_EQ(cli_gone.status().reason(), Reason::kNotFound) << cli_gone.status().ToString();
  EXPECT_NE(cli_gone.status().message().find("does not exist"), std::string::npos);
  EXPECT_EQ(control.pool_size(), 1u);
  control.Retain({});
  EXPECT_EQ(control.pool_size(), 0u);
}

// Why the CLI path reports no CPU: the pause container's events -stats line
// carries only its share of the sandbox's CPU, which is ~0.
TEST_F(RealSandboxCliTest, PauseContainerLineDoesNotCarryTheSandboxCpu) {
  const std::string sb_id = RealSandboxEnv::UniqueId("gvectl");
  const std::string app_id = RealSandboxEnv::UniqueId("gvectl");
  ASSERT_TRUE(env_->StartCriSandbox(sb_id).ok());
  ASSERT_TRUE(env_->StartCriContainer(app_id, sb_id,
                                      {"/bin/sh", "-c",
                                       "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done;"
                                       " exec sleep 1000"})
                  .ok());
  const SandboxInfo sb = env_->Info(sb_id, {app_id});
  ControlSocketClient control;
  // Wait until the sentry has accounted the app's busy loop.
  StatusOr<SandboxUsage> u = InternalError("not run");
  for (int i = 0; i < 100; ++i) {
    u = control.Collect(sb, false);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    if (u->container_cpu_ns[app_id] >= 100'000'000 && u->pids == 2u) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(u->container_cpu_ns[app_id], 100'000'000u);
  // The pause container idles: 0, or a 10 ms tick when the host is busy.
  EXPECT_LT(u->container_cpu_ns[sb_id], u->container_cpu_ns[app_id] / 4);

  auto pause_out = env_->Runsc({"events", "-stats", sb_id});
  auto app_out = env_->Runsc({"events", "-stats", app_id});
  ASSERT_TRUE(pause_out.ok() && app_out.ok());
  auto pause_line = ParseEventsStatsOutput(*pause_out);
  auto app_line = ParseEventsStatsOutput(*app_out);
  ASSERT_TRUE(pause_line.ok() && app_line.ok());
  // Each line is the sandbox's host CPU times that container's share: the
  // pause line (usually `"cpu":{"usage":{}}`) is nowhere near the sandbox's.
  ASSERT_TRUE((*pause_line)[0].cpu_total && (*app_line)[0].cpu_total);
  EXPECT_GE(*(*app_line)[0].cpu_total, 100'000'000u);
  EXPECT_LT(*(*pause_line)[0].cpu_total, *(*app_line)[0].cpu_total / 4);
  // ...of the host cgroup's CPU, read here afterwards (cgroup v1 hosts).
  std::ifstream cpuacct("/sys/fs/cgroup/cpuacct" + env_->CgroupsPath(sb_id) + "/cpuacct.usage");
  if (uint64_t cgroup_ns = 0; cpuacct >> cgroup_ns) {
    EXPECT_LE(*(*app_line)[0].cpu_total, cgroup_ns);
  }
  // Memory and pids are sandbox-wide on both lines (20221219).
  EXPECT_EQ((*pause_line)[0].pids, u->pids);
  EXPECT_EQ((*app_line)[0].pids, u->pids);

  auto over_cli = RunscCli().Collect(sb, false);
  ASSERT_TRUE(over_cli.ok()) << over_cli.status().ToString();
  EXPECT_TRUE(over_cli->container_cpu_ns.empty());
  EXPECT_EQ(over_cli->pids, 2u);
}

TEST_F(RealSandboxCliTest, VersionOfTheInstalledRunsc) {
  auto v = RunscCli().Version();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto raw = RunCommand({"runsc", "--version"}, std::chrono::seconds(10), 1 << 16);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->stdout_data.rfind("runsc version " + *v + "\n", 0), 0u);
}

}  // namespace
}  // namespace gvisor_exporter
