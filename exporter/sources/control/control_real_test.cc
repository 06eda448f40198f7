// Against a REAL runsc sandbox (root + runsc required, else skipped).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "exporter/sources/control/control_client.h"
#include "exporter/sources/control/urpc_client.h"
#include "exporter/sources/control/usage_parser.h"
#include "exporter/testing/open_fds.h"
#include "exporter/testing/real_sandbox.h"

namespace gvisor_exporter {
namespace {

using testing::CountOpenFds;
using testing::RealSandboxEnv;

class RealSandboxControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = RealSandboxEnv::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    env_ = std::make_unique<RealSandboxEnv>("gve-ctl-test");
    id_ = RealSandboxEnv::UniqueId("gvectl");
    Status st = env_->StartCriSandbox(id_);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::unique_ptr<RealSandboxEnv> env_;
  std::string id_;
};

TEST_F(RealSandboxControlTest, CollectAgreesWithTheCliAndFailsClearlyOnceGone) {
  ControlSocketClient client;
  const SandboxInfo sb = env_->Info(id_);
  auto full = client.Collect(sb, true);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(full->path, StatsPath::kControlSocket);
  EXPECT_TRUE(full->memory->full);
  EXPECT_GT(full->memory->total, 0u);
  EXPECT_EQ(full->pids, 1u);  // sleep
  EXPECT_EQ(full->container_cpu_ns.count(id_), 1u);

  auto usage = env_->Runsc({"usage", id_});
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  auto cli_memory = ParseUsageOutput(*usage, false);
  ASSERT_TRUE(cli_memory.ok());
  auto events = env_->Runsc({"events", "-stats", id_});
  ASSERT_TRUE(events.ok());
  auto cli_events = ParseEventsStatsOutput(*events);
  ASSERT_TRUE(cli_events.ok());

  auto quick = client.Collect(sb, false);
  ASSERT_TRUE(quick.ok()) << quick.status().ToString();
  // An idle sleep sandbox does not move: the same numbers exactly.
  EXPECT_EQ(quick->memory->total, cli_memory->total);
  EXPECT_EQ(full->memory->total, cli_memory->total);
  EXPECT_EQ(quick->memory->mapped, cli_memory->mapped);
  EXPECT_EQ(quick->pids, (*cli_events)[0].pids);
  EXPECT_FALSE(client.connected(ControlSocketClient::Key(sb)));  // closed after each Collect

  env_->Destroy(id_);
  auto gone = client.Collect(sb, false);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().reason(), Reason::kUnavailable) << gone.status().ToString();
  EXPECT_NE(gone.status().message().find(id_), std::string::npos);
  EXPECT_FALSE(client.connected(ControlSocketClient::Key(sb)));
  client.Retain({});
  EXPECT_EQ(client.pool_size(), 0u);
}

// Usage.UsageFD really passes two memfds: the client must close them.
TEST_F(RealSandboxControlTest, FdsFromARealSentryAreClosed) {
  UrpcConnection conn(SocketAddress::ForRunscSandbox(id_));
  ASSERT_TRUE(conn.Call("Usage.Collect", {{"Full", false}}).ok());
  const int before = CountOpenFds();
  for (int i = 0; i < 5; ++i) {
    auto r = conn.Call("Usage.UsageFD", {{"Version", 1}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  EXPECT_EQ(CountOpenFds(), before);
  // An error reply from the real sentry keeps the connection.
  auto bad = conn.Call("Usage.UsageFD", nlohmann::json::object());
  EXPECT_EQ(bad.status().reason(), Reason::kRemote);
  EXPECT_TRUE(conn.connected());
}

// The cost the exporter pays per sandbox and poll (connect, Event,
// Usage.Collect, close).
TEST_F(RealSandboxControlTest, CollectIsCheap) {
  ControlSocketClient client;
  const SandboxInfo sb = env_->Info(id_);
  ASSERT_TRUE(client.Collect(sb, false).ok());
  constexpr int kCalls = 200;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) ASSERT_TRUE(client.Collect(sb, false).ok());
  const auto per_call = (std::chrono::steady_clock::now() - start) / kCalls;
  RecordProperty("collect_us", std::to_string(per_call / std::chrono::microseconds(1)));
  std::printf("Collect (connect + Event + Usage.Collect + close): %.3f ms\n",
              std::chrono::duration<double, std::milli>(per_call).count());
  EXPECT_LT(per_call, std::chrono::milliseconds(5));
}

}  // namespace
}  // namespace gvisor_exporter
