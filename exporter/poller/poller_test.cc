#include "exporter/poller/poller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace gvisor_exporter {
namespace {

SandboxInfo Sb(const std::string& id, int64_t pid) {
  SandboxInfo s;
  s.root = "/r";
  s.id = id;
  s.pid = pid;
  return s;
}

// Lists `sandboxes` as discovery does.
struct FakeDiscovery : Source {
  std::vector<SandboxInfo> sandboxes;
  bool success = true;
  void Read(Poll& poll) override {
    poll.Time("runsc_state", [&] {
      for (const SandboxInfo& info : sandboxes) poll.snapshot().sandboxes.push_back({.info = info});
      return success;
    });
  }
};

// A per-sandbox read: fails for `failing`, marks `gone` gone, takes `delay`.
struct FakePerSandbox : Source {
  std::set<std::string> failing, gone;
  std::chrono::milliseconds delay{0};
  std::atomic<int> in_flight{0}, max_in_flight{0};
  std::set<std::string> retained;
  void Read(Poll& poll) override {
    poll.ForEachSandbox([this](SandboxPoll& sb) {
      auto r = sb.Read("fake", [&]() -> StatusOr<int> {
        const int now = ++in_flight;
        int prev = max_in_flight.load();
        while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
        }
        std::this_thread::sleep_for(delay);
        --in_flight;
        if (gone.count(sb.info().id)) return NotFoundError("sentry gone");
        if (failing.count(sb.info().id)) return TimeoutError("no answer");
        return 7;
      });
      if (r.ok()) sb.sandbox().usage.pids = *r;
      if (!r.ok() && r.status().reason() == Reason::kNotFound) sb.MarkGone();
    });
    retained = poll.LiveKeys();
  }
};

// Records what it saw (the sources before it ran first) and its shutdown.
struct Recorder : Source {
  std::vector<std::string> seen;
  int shutdowns = 0;
  void Read(Poll& poll) override {
    seen.clear();
    for (const SandboxSnapshot& s : poll.snapshot().sandboxes) {
      seen.push_back(s.info.id + (s.usage.pids ? "+" : "-"));
    }
  }
  void Shutdown() override { ++shutdowns; }
};

struct Rig {
  FakeDiscovery* discovery;
  FakePerSandbox* per_sandbox;
  Recorder* recorder;
  SnapshotStore store;
  ErrorReporter errors;
  std::unique_ptr<Poller> poller;
  explicit Rig(const PollerOptions& o = {}) {
    auto d = std::make_unique<FakeDiscovery>();
    auto p = std::make_unique<FakePerSandbox>();
    auto r = std::make_unique<Recorder>();
    discovery = d.get();
    per_sandbox = p.get();
    recorder = r.get();
    Sources sources;
    sources.push_back(std::move(d));
    sources.push_back(std::move(p));
    sources.push_back(std::move(r));
    poller = std::make_unique<Poller>(o, std::move(sources), &store, &errors);
  }
};

TEST(PollerTest, RunsSourcesInOrderAndPublishesOneSnapshot) {
  Rig rig;
  rig.discovery->sandboxes = {Sb("a", 10), Sb("b", 20)};
  rig.per_sandbox->failing = {"b"};
  rig.poller->PollOnce();
  auto snap = rig.store.Get();
  ASSERT_TRUE(snap);
  ASSERT_EQ(snap->sandboxes.size(), 2u);
  EXPECT_EQ(snap->sandboxes[0].usage.pids, 7u);
  EXPECT_FALSE(snap->sandboxes[1].usage.pids);
  EXPECT_EQ(rig.recorder->seen, (std::vector<std::string>{"a+", "b-"}));
  EXPECT_EQ(snap->poll_count, 1u);
  EXPECT_GT(snap->timestamp_seconds, 0);
}

TEST(PollerTest, FoldsEachReadIntoItsCollectorsHealthAndErrors) {
  Rig rig;
  rig.discovery->sandboxes = {Sb("a", 10), Sb("b", 20)};
  rig.poller->PollOnce();
  EXPECT_TRUE(rig.store.Get()->sources.at("fake").success);
  EXPECT_TRUE(rig.store.Get()->sources.at("runsc_state").success);

  rig.per_sandbox->failing = {"b"};
  rig.discovery->success = false;
  rig.poller->PollOnce();
  auto snap = rig.store.Get();
  EXPECT_FALSE(snap->sources.at("fake").success);
  EXPECT_FALSE(snap->sources.at("runsc_state").success);
  EXPECT_EQ((rig.errors.Counts()[{"fake", "timeout"}]), 1u);
  EXPECT_GT(snap->sandboxes[1].poll_duration_seconds, 0);
}

TEST(PollerTest, SandboxMarkedGoneIsDroppedBeforeTheNextSource) {
  Rig rig;
  rig.discovery->sandboxes = {Sb("a", 10), Sb("b", 20)};
  rig.per_sandbox->gone = {"a"};
  rig.poller->PollOnce();
  auto snap = rig.store.Get();
  ASSERT_EQ(snap->sandboxes.size(), 1u);
  EXPECT_EQ(snap->sandboxes[0].info.id, "b");
  EXPECT_EQ(rig.recorder->seen, (std::vector<std::string>{"b+"}));
  EXPECT_EQ(rig.per_sandbox->retained, (std::set<std::string>{"/r\nb"}));
  // A sandbox going away is routine: counted, but the collector succeeded.
  EXPECT_TRUE(snap->sources.at("fake").success);
  EXPECT_EQ((rig.errors.Counts()[{"fake", "not_found"}]), 1u);
}

TEST(PollerTest, RemovedSandboxVanishesAtTheNextPoll) {
  Rig rig;
  rig.discovery->sandboxes = {Sb("a", 10), Sb("b", 20)};
  rig.poller->PollOnce();
  ASSERT_EQ(rig.store.Get()->sandboxes.size(), 2u);
  rig.discovery->sandboxes = {Sb("b", 20)};
  rig.poller->PollOnce();
  ASSERT_EQ(rig.store.Get()->sandboxes.size(), 1u);
  EXPECT_EQ(rig.per_sandbox->retained.size(), 1u);
}

TEST(PollerTest, SlowSandboxesAreReadByABoundedPool) {
  PollerOptions o;
  o.concurrency = 4;
  Rig rig(o);
  for (int i = 0; i < 8; ++i)
    rig.discovery->sandboxes.push_back(Sb("s" + std::to_string(i), i + 1));
  rig.per_sandbox->delay = std::chrono::milliseconds(100);
  rig.poller->PollOnce();
  auto snap = rig.store.Get();
  ASSERT_EQ(snap->sandboxes.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(snap->sandboxes[i].info.id, "s" + std::to_string(i));
  // A slow sandbox occupies one worker, never more than `concurrency` at once.
  EXPECT_GE(rig.per_sandbox->max_in_flight.load(), 2);
  EXPECT_LE(rig.per_sandbox->max_in_flight.load(), 4);
}

TEST(PollerTest, BackgroundThreadPublishesStopsAndShutsSourcesDownOnce) {
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
  rig.poller->Stop();
  EXPECT_EQ(rig.recorder->shutdowns, 1);
}

}  // namespace
}  // namespace gvisor_exporter
