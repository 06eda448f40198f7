#include "exporter/sources/cri/cri_source.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "exporter/common/unique_fd.h"
#include "exporter/sources/cri/fake_cri_server.h"
#include "exporter/sources/cri/test_util.h"
#include "exporter/testing/temp_dir.h"
#include "exporter/testing/test_poll.h"

namespace gvisor_exporter {
namespace {

using cri_testing::FakeCriServer;
using cri_testing::FakeRuntime;
using cri_testing::LoadReply;
using Clock = std::chrono::steady_clock;

class CriSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sock_ = dir_.Sub("containerd.sock");
    runtime_.list = LoadReply<runtime::v1::ListPodSandboxResponse>("list_pod_sandbox.json");
  }

  CriSourceOptions Options() {
    CriSourceOptions o;
    o.client.endpoint = "unix://" + sock_;
    o.client.min_reconnect_backoff = std::chrono::milliseconds(100);
    o.client.max_reconnect_backoff = std::chrono::milliseconds(200);
    o.timeout = std::chrono::milliseconds(500);
    o.mapping.gvisor_handlers = {"runsc"};
    o.mapping.runtime_classes = {{"runsc", "gvisor"}};
    o.mapping.policy_namespaces = {"default"};
    return o;
  }

  uint64_t Errors(const std::string& reason) {
    auto counts = errors_.Counts();
    auto it = counts.find({"cri", reason});
    return it == counts.end() ? 0 : it->second;
  }

  // Syncs until the runtime is up again (gRPC reconnects with backoff).
  PodSync SyncUntilUp(CriPodSource* source, std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    PodSync s = source->Sync({});
    while (!s.state.up && Clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      s = source->Sync({});
    }
    return s;
  }

  testing::TempDir dir_{"gve-cri"};
  std::string sock_;
  FakeRuntime runtime_;
  ErrorReporter errors_;
};

TEST_F(CriSourceTest, ReadNamesSandboxesWithTheApisRuntimeClassesWhenThereAreAny) {
  FakeCriServer server(sock_, &runtime_);
  ASSERT_TRUE(server.ok());
  CriPodSource source(Options(), &errors_);
  NodeSnapshot snap;
  SandboxSnapshot sb;
  sb.info.root = "/run/containerd/runsc/k8s.io";
  sb.info.id = "942a6d535a6efbf1f7593b877ae5da4b1aa9a4d5e15e33bdc8b8240cc216a467";  // pod-gvisor-a
  sb.info.pid = 1;
  snap.sandboxes = {sb};
  testing::TestPoll poll(&snap);
  source.Read(poll);
  ASSERT_TRUE(snap.cri && snap.cri->up);
  EXPECT_TRUE(snap.sources.at("cri").success);
  EXPECT_EQ(snap.sandboxes[0].runtime_handler, "runsc");
  EXPECT_EQ(snap.sandboxes[0].runtime_class, "gvisor");  // --runtime.classes

  // The Kubernetes source ran before and listed classes: they replace the
  // flag's mapping; two classes with handler runsc: the first by name wins.
  snap.kube = KubeState{
      true, std::vector<RuntimeClassInfo>{{"gvisor-b", "runsc", std::nullopt, std::nullopt},
                                          {"gvisor-a", "runsc", std::nullopt, std::nullopt}}};
  source.Read(poll);
  EXPECT_EQ(snap.sandboxes[0].runtime_class, "gvisor-a");
  int runc_with_class = 0;
  for (const PodInfo& p : snap.cri->pods)
    runc_with_class += p.runtime_handler == "runc" && !p.runtime_class.empty();
  EXPECT_EQ(runc_with_class, 0);  // no class has handler runc
}

TEST_F(CriSourceTest, MapsPodsWithOneListPerPollAndStatusOnlyForNewIds) {
  FakeCriServer server(sock_, &runtime_);
  ASSERT_TRUE(server.ok());
  CriPodSource source(Options(), &errors_);
  PodSync s = source.Sync({});
  ASSERT_TRUE(s.state.up);
  EXPECT_TRUE(s.success);
  EXPECT_EQ(s.state.runtime_name, "containerd");
  EXPECT_EQ(s.state.runtime_version, "1.6.20~ds1");
  EXPECT_EQ(s.state.pods.size(), 9u);
  EXPECT_EQ(runtime_.list_calls, 1);
  EXPECT_EQ(runtime_.status_calls, 9);
  int violations = 0;
  for (const PodInfo& p : s.state.pods) violations += p.policy_violation;
  EXPECT_EQ(violations, 3);  // the 3 runc pods of "default"

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(source.Sync({}).state.up);
  EXPECT_EQ(runtime_.list_calls, 4);
  EXPECT_EQ(runtime_.status_calls, 9) << "verbose status is cached by id";
  EXPECT_EQ(runtime_.version_calls, 1);

  // A removed pod leaves the list and the cache; a new one is asked about once.
  {
    std::lock_guard<std::mutex> lock(runtime_.mu);
    runtime_.list.mutable_items()->DeleteSubrange(0, 1);
    auto* added = runtime_.list.add_items();
    added->set_id(std::string(64, 'b'));
    added->mutable_metadata()->set_name("new");
    added->mutable_metadata()->set_namespace_("default");
    added->set_runtime_handler("runsc");
  }
  s = source.Sync({});
  EXPECT_EQ(s.state.pods.size(), 9u);
  EXPECT_EQ(runtime_.status_calls, 10);
  EXPECT_EQ(source.cached_status_count(), 9u);
}

TEST_F(CriSourceTest, RunscShimInVerboseInfoMakesAHandlerGvisor) {
  {
    std::lock_guard<std::mutex> lock(runtime_.mu);
    runtime_.info = R"({"pid":42,"runtimeType":"io.containerd.runsc.v1"})";
  }
  FakeCriServer server(sock_, &runtime_);
  CriSourceOptions o = Options();
  o.mapping.gvisor_handlers.clear();
  CriPodSource source(std::move(o), &errors_);
  PodSync s = source.Sync({});
  ASSERT_TRUE(s.state.up);
  for (const PodInfo& p : s.state.pods) EXPECT_TRUE(p.sandboxed) << p.name;
}

TEST_F(CriSourceTest, MissingSocketIsDownButNotAFailure) {
  CriPodSource source(Options(), &errors_);
  PodSync s = source.Sync({});
  EXPECT_FALSE(s.state.up);
  EXPECT_TRUE(s.success);
  EXPECT_TRUE(s.state.pods.empty());
  EXPECT_EQ(Errors("not_found"), 1u);
}

TEST_F(CriSourceTest, RefusedSocketIsAFailure) {
  // A socket file nobody accepts on: what a crashed containerd leaves.
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_.c_str());
  ASSERT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  CriPodSource source(Options(), &errors_);
  PodSync s = source.Sync({});
  EXPECT_FALSE(s.state.up);
  EXPECT_FALSE(s.success);
  EXPECT_GE(Errors("unavailable"), 1u);
}

TEST_F(CriSourceTest, GoesDownAndRecoversByItself) {
  CriPodSource source(Options(), &errors_);
  {
    FakeCriServer server(sock_, &runtime_);
    ASSERT_TRUE(source.Sync({}).state.up);
  }
  unlink(sock_.c_str());
  PodSync s = source.Sync({});
  EXPECT_FALSE(s.state.up);
  EXPECT_TRUE(s.state.pods.empty()) << "no stale pods while down";

  FakeCriServer again(sock_, &runtime_);
  ASSERT_TRUE(again.ok());
  s = SyncUntilUp(&source, std::chrono::seconds(5));
  EXPECT_TRUE(s.state.up);
  EXPECT_EQ(s.state.pods.size(), 9u);
  EXPECT_EQ(runtime_.version_calls, 2) << "Version is read again after a reconnect";
}

TEST_F(CriSourceTest, HangingRuntimeIsBoundedByTheDeadline) {
  runtime_.delay_ms = 3000;
  FakeCriServer server(sock_, &runtime_);
  CriPodSource source(Options(), &errors_);
  const auto t0 = Clock::now();
  PodSync s = source.Sync({});
  const auto took = Clock::now() - t0;
  EXPECT_FALSE(s.state.up);
  EXPECT_FALSE(s.success);
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_EQ(Errors("timeout"), 1u);
  runtime_.delay_ms = 0;
  EXPECT_TRUE(SyncUntilUp(&source, std::chrono::seconds(5)).state.up);
}

TEST_F(CriSourceTest, GarbageSpeakingSocketIsDown) {
  // Accepts and answers every connection with bytes that are not HTTP/2.
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_.c_str());
  ASSERT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd.get(), 8), 0);
  std::atomic<bool> stop{false};
  std::thread garbage([&] {
    while (!stop) {
      pollfd p{fd.get(), POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      UniqueFd c(accept4(fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c.valid()) continue;
      const std::string junk(4096, '\x7f');
      (void)!write(c.get(), junk.data(), junk.size());
    }
  });
  CriPodSource source(Options(), &errors_);
  const auto t0 = Clock::now();
  for (int i = 0; i < 3; ++i) {
    PodSync s = source.Sync({});
    EXPECT_FALSE(s.state.up);
    EXPECT_FALSE(s.success);
  }
  EXPECT_LT(Clock::now() - t0, std::chrono::milliseconds(2000));
  stop = true;
  garbage.join();
}

TEST_F(CriSourceTest, OversizedReplyIsRejected) {
  FakeCriServer server(sock_, &runtime_);
  CriSourceOptions o = Options();
  o.client.max_receive_bytes = 1024;  // the recording is ~5 KB on the wire
  CriPodSource source(std::move(o), &errors_);
  PodSync s = source.Sync({});
  EXPECT_FALSE(s.state.up);
  EXPECT_EQ(Errors("too_large"), 1u);
}

TEST_F(CriSourceTest, InvalidPodsAreSkippedAndCounted) {
  {
    std::lock_guard<std::mutex> lock(runtime_.mu);
    auto* bad = runtime_.list.add_items();
    bad->set_id("../../etc");
    bad->mutable_metadata()->set_name("evil");
    bad->mutable_metadata()->set_namespace_("default");
    auto* bad_name = runtime_.list.add_items();
    bad_name->set_id(std::string(64, 'c'));
    bad_name->mutable_metadata()->set_name("evil\npod");
    bad_name->mutable_metadata()->set_namespace_("default");
  }
  FakeCriServer server(sock_, &runtime_);
  CriPodSource source(Options(), &errors_);
  PodSync s = source.Sync({});
  ASSERT_TRUE(s.state.up);
  EXPECT_EQ(s.state.pods.size(), 9u);
  EXPECT_EQ(Errors("invalid"), 2u);
}

TEST_F(CriSourceTest, GarbageVerboseInfoIsCountedAndCachedAnyway) {
  {
    std::lock_guard<std::mutex> lock(runtime_.mu);
    runtime_.info = "{not json";
  }
  FakeCriServer server(sock_, &runtime_);
  CriPodSource source(Options(), &errors_);
  ASSERT_TRUE(source.Sync({}).state.up);
  ASSERT_TRUE(source.Sync({}).state.up);
  EXPECT_EQ(runtime_.status_calls, 9);
  EXPECT_EQ(Errors("parse"), 9u);
}

}  // namespace
}  // namespace gvisor_exporter
