#include "exporter/poller/poller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gvisor_exporter {
namespace {

SandboxInfo Sb(const std::string& id, int64_t pid) {
  SandboxInfo s;
  s.root = "/r";
  s.id = id;
  s.pid = pid;
  s.pod_name = "pod-" + id;
  s.cgroup = {CgroupRef::Kind::kV1, "/x/" + id, ""};
  return s;
}

struct FakeDiscovery : DiscoverySource {
  std::vector<SandboxInfo> sandboxes;
  Discovery Discover() override { return {{"/r"}, sandboxes, true}; }
};

struct FakeUsage : UsageSource {
  explicit FakeUsage(StatsPath p) : path(p) {}
  StatsPath path;
  std::set<std::string> failing;
  std::chrono::milliseconds delay{0};
  std::set<std::string> retained;
  std::atomic<int> in_flight{0}, max_in_flight{0};
  StatusOr<SandboxUsage> Collect(const SandboxInfo& s) override {
    const int now = ++in_flight;
    int prev = max_in_flight.load();
    while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
    }
    std::this_thread::sleep_for(delay);
    --in_flight;
    if (failing.count(s.id)) return TimeoutError("no answer");
    SandboxUsage u;
    u.path = path;
    u.memory = SandboxMemory{};
    u.memory->total = 1000 + static_cast<uint64_t>(s.pid);
    return u;
  }
  void Retain(const std::set<std::string>& live) override { retained = live; }
};

struct FakeHost : HostSource {
  std::set<std::string> gone;
  StatusOr<std::vector<HostProcess>> Processes(const SandboxInfo& s) override {
    if (gone.count(s.id)) return NotFoundError("sentry gone");
    HostProcess p;
    p.pid = s.pid;
    p.role = ProcessRole::kSentry;
    p.pss_bytes = 5000;
    return std::vector<HostProcess>{p};
  }
  StatusOr<HostCgroup> Cgroup(const SandboxInfo&) override { return PermissionError("denied"); }
  StatusOr<SandboxPlatform> Platform(const SandboxInfo&) override {
    SandboxPlatform p;
    p.platform = "ptrace";
    return p;
  }
};

struct Rig {
  FakeDiscovery* discovery;
  FakeUsage* control;
  FakeUsage* cli;
  FakeHost* host;
  SnapshotStore store;
  ErrorReporter errors;
  std::unique_ptr<Poller> poller;
  explicit Rig(PollerOptions o = {}) {
    PollerSources src;
    auto d = std::make_unique<FakeDiscovery>();
    auto c = std::make_unique<FakeUsage>(StatsPath::kControlSocket);
    auto l = std::make_unique<FakeUsage>(StatsPath::kCli);
    auto h = std::make_unique<FakeHost>();
    discovery = d.get();
    control = c.get();
    cli = l.get();
    host = h.get();
    src.discovery = std::move(d);
    src.control_socket = std::move(c);
    src.cli = std::move(l);
    src.host = std::move(h);
    poller = std::make_unique<Poller>(o, std::move(src), &store, &errors);
  }
};

TEST(PollerTest, FallsBackToCliAndSaysWhichPathServed) {
  Rig rig;
  rig.discovery->sandboxes = {Sb("a", 10), Sb("b", 20)};
  rig.control->failing = {"b"};
  rig.poller->PollOnce();
  auto snap = rig.store.Get();
  ASSERT_EQ(snap->sandboxes.size(), 2u);
  EXPECT_EQ(snap->sandboxes[0].usage.path, StatsPath::kControlSocket);
  EXPECT_EQ(snap->sandboxes[1].usage.path, StatsPath::kCli);
  EXPECT_EQ(snap->sandboxes[1].usage.memory->total, 1020u);
  EXPECT_FALSE(snap->sources.at("control_socket").success);
  EXPECT_TRUE(snap->sources.at("cli").success);
  auto counts = rig.errors.Counts();
  EXPECT_EQ((counts[{"control_socket", "timeout"}]), 1u);
  EXPECT_EQ((counts[{"cgroup", "permission"}]), 2u);
  EXPECT_EQ(snap->poll_count, 1u);
}

TEST(PollerTest, BothPathsFailingStillExportsHostSide) {
  Rig rig;
  rig.discovery->sandboxes = {Sb("a", 10)};
  rig.control->failing = {"a"};
  rig.cli->failing = {"a"};
  rig.poller->PollOnce();
  auto snap = rig.store.Get();
  ASSERT_EQ(snap->sandboxes.size(), 1u);
  EXPECT_EQ(snap->sandboxes[0].usage.path, StatsPath::kNone);
  EXPECT_FALSE(snap->sandboxes[0].usage.memory.has_value());
  EXPECT_EQ(snap->sandboxes[0].processes.size(), 1u);
  EXPECT_EQ(snap->sandboxes[0].platform.platform, "ptrace");
}

TEST(PollerTest, SandboxKilledBetweenDiscoveryAndStatsIsDropped) {
  Rig rig;
  rig.discovery->sandboxes = {Sb("a", 10), Sb("b", 20)};
  rig.host->gone = {"a"};
  rig.poller->PollOnce();
  auto snap = rig.store.Get();
  ASSERT_EQ(snap->sandboxes.size(), 1u);
  EXPECT_EQ(snap->sandboxes[0].info.id, "b");
  EXPECT_EQ(rig.control->retained, (std::set<std::string>{"/r\nb"}));
}

TEST(PollerTest, RemovedSandboxVanishesAtTheNextPoll) {
  Rig rig;
  rig.discovery->sandboxes = {Sb("a", 10), Sb("b", 20)};
  rig.poller->PollOnce();
  ASSERT_EQ(rig.store.Get()->sandboxes.size(), 2u);
  rig.discovery->sandboxes = {Sb("b", 20)};
  rig.poller->PollOnce();
  ASSERT_EQ(rig.store.Get()->sandboxes.size(), 1u);
  EXPECT_EQ(rig.control->retained.size(), 1u);
}

TEST(PollerTest, SlowSandboxesAreReadByABoundedPool) {
  PollerOptions o;
  o.concurrency = 4;
  Rig rig(o);
  for (int i = 0; i < 8; ++i)
    rig.discovery->sandboxes.push_back(Sb("s" + std::to_string(i), i + 1));
  rig.control->delay = std::chrono::milliseconds(100);
  rig.poller->PollOnce();
  auto snap = rig.store.Get();
  ASSERT_EQ(snap->sandboxes.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(snap->sandboxes[i].info.id, "s" + std::to_string(i));
  // A slow sandbox occupies one worker, never more than `concurrency` at once.
  EXPECT_GE(rig.control->max_in_flight.load(), 2);
  EXPECT_LE(rig.control->max_in_flight.load(), 4);
}

TEST(PollerTest, HostCollectorCanBeSwitchedOff) {
  PollerOptions o;
  o.host = false;
  Rig rig(o);
  rig.discovery->sandboxes = {Sb("a", 10)};
  rig.poller->PollOnce();
  auto snap = rig.store.Get();
  ASSERT_EQ(snap->sandboxes.size(), 1u);
  EXPECT_TRUE(snap->sandboxes[0].processes.empty());
  EXPECT_FALSE(snap->sandboxes[0].cgroup.has_value());
  EXPECT_EQ(snap->sandboxes[0].platform.platform, "ptrace");
  EXPECT_EQ(snap->sources.count("procfs"), 0u);
  EXPECT_EQ((rig.errors.Counts()[{"cgroup", "permission"}]), 0u);
}

TEST(PollerTest, BackgroundThreadPublishesAndStops) {
  PollerOptions o;
  o.interval = std::chrono::milliseconds(20);
  Rig rig(o);
  rig.discovery->sandboxes = {Sb("a", 10)};
  rig.poller->Start();
  for (int i = 0; i < 200 && rig.poller->polls() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  rig.poller->Stop();
  EXPECT_GE(rig.poller->polls(), 3u);
  const auto n = rig.poller->polls();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(rig.poller->polls(), n);
}

}  // namespace
}  // namespace gvisor_exporter

namespace gvisor_exporter {
namespace {

struct FakePods : PodSource {
  PodSync Sync(const std::vector<SandboxInfo>&) override {
    PodSync s;
    s.state.up = true;
    PodInfo gvisor, runc;
    gvisor.id = "a";
    gvisor.runtime_handler = "runsc";
    gvisor.runtime_class = "from-flag";
    runc.id = "r";
    runc.runtime_handler = "runc";
    runc.runtime_class = "from-flag-too";
    s.state.pods = {gvisor, runc};
    return s;
  }
};

struct FakeClasses : RuntimeClassSource {
  RuntimeClassSync next;
  int calls = 0;
  RuntimeClassSync Refresh() override {
    ++calls;
    return next;
  }
};

TEST(PollerKubeTest, ApiRuntimeClassesReplaceTheFlagMapping) {
  PollerSources src;
  auto d = std::make_unique<FakeDiscovery>();
  d->sandboxes = {Sb("a", 10)};
  src.discovery = std::move(d);
  src.control_socket = std::make_unique<FakeUsage>(StatsPath::kControlSocket);
  src.host = std::make_unique<FakeHost>();
  src.pods = std::make_unique<FakePods>();
  auto classes = std::make_unique<FakeClasses>();
  FakeClasses* fake = classes.get();
  // Two classes share handler runsc: the first by name names the pod.
  fake->next.state.up = true;
  fake->next.state.runtime_classes =
      std::vector<RuntimeClassInfo>{{"gvisor-b", "runsc", std::nullopt, std::nullopt},
                                    {"gvisor-a", "runsc", std::nullopt, std::nullopt}};
  src.runtime_classes = std::move(classes);
  SnapshotStore store;
  ErrorReporter errors;
  Poller poller({}, std::move(src), &store, &errors);
  poller.PollOnce();
  auto snap = store.Get();
  ASSERT_TRUE(snap->kube);
  EXPECT_TRUE(snap->kube->up);
  EXPECT_TRUE(snap->sources.at("kubernetes").success);
  ASSERT_EQ(snap->cri->pods.size(), 2u);
  EXPECT_EQ(snap->cri->pods[0].runtime_class, "gvisor-a");
  EXPECT_EQ(snap->cri->pods[1].runtime_class, "");  // no class has handler runc
  EXPECT_EQ(snap->sandboxes[0].runtime_class, "gvisor-a");

  // The API failing before any list: the flag mapping stays.
  fake->next = RuntimeClassSync{};
  fake->next.success = false;
  poller.PollOnce();
  snap = store.Get();
  EXPECT_FALSE(snap->kube->up);
  EXPECT_FALSE(snap->sources.at("kubernetes").success);
  EXPECT_EQ(snap->cri->pods[0].runtime_class, "from-flag");
  EXPECT_EQ(fake->calls, 2);
}

}  // namespace
}  // namespace gvisor_exporter
