#include "exporter/sources/kube/kube_source.h"

#include <gtest/gtest.h>

#include <deque>

namespace gvisor_exporter {
namespace {

using namespace std::chrono_literals;  // NOLINT(build/namespaces)
using Clock = KubeRuntimeClassSource::Clock;

constexpr char kGood[] =
    R"({"kind":"RuntimeClassList","items":[{"metadata":{"name":"gvisor"},"handler":"runsc",)"
    R"("overhead":{"podFixed":{"memory":"64Mi","cpu":"100m"}}}]})";

// A fetch that replays scripted replies and counts calls, on a fake clock.
struct Fake {
  std::deque<StatusOr<std::string>> replies;
  int calls = 0;
  Clock::time_point now{};
  ErrorReporter errors;

  KubeRuntimeClassSource Make(std::chrono::milliseconds refresh = 60s) {
    KubeSourceOptions o;
    o.refresh = refresh;
    return KubeRuntimeClassSource(
        o, &errors,
        [this]() -> StatusOr<std::string> {
          ++calls;
          auto r = replies.front();
          if (replies.size() > 1) replies.pop_front();
          return r;
        },
        [this] { return now; });
  }
  uint64_t Errors(const char* reason) { return errors.Counts()[{"kubernetes", reason}]; }
};

TEST(KubeSourceTest, FetchesAtStartThenOnlyWhenDue) {
  Fake f;
  f.replies = {std::string(kGood)};
  auto src = f.Make(60s);
  RuntimeClassSync s = src.Refresh();
  EXPECT_EQ(f.calls, 1);
  EXPECT_TRUE(s.success);
  EXPECT_TRUE(s.state.up);
  ASSERT_TRUE(s.state.runtime_classes);
  ASSERT_EQ(s.state.runtime_classes->size(), 1u);
  EXPECT_EQ((*s.state.runtime_classes)[0].overhead_memory_bytes, 64u << 20);
  f.now += 59s;
  s = src.Refresh();
  EXPECT_EQ(f.calls, 1);  // not due: the last result, no I/O
  EXPECT_TRUE(s.state.up);
  f.now += 1s;
  src.Refresh();
  EXPECT_EQ(f.calls, 2);
}

TEST(KubeSourceTest, FailureKeepsTheLastGoodListAndBacksOff) {
  Fake f;
  f.replies = {std::string(kGood), PermissionError("HTTP 403"), PermissionError("HTTP 403"),
               PermissionError("HTTP 403"), std::string(kGood)};
  auto src = f.Make(60s);
  src.Refresh();
  f.now += 60s;
  RuntimeClassSync s = src.Refresh();  // 403
  EXPECT_FALSE(s.success);
  EXPECT_FALSE(s.state.up);
  ASSERT_TRUE(s.state.runtime_classes);  // kept
  EXPECT_EQ(s.state.runtime_classes->size(), 1u);
  EXPECT_EQ(f.Errors("permission"), 1u);
  f.now += 999ms;
  s = src.Refresh();
  EXPECT_EQ(f.calls, 2);  // backing off 1 s
  EXPECT_FALSE(s.success);
  f.now += 1ms;
  src.Refresh();  // 403 again: next in 2 s
  EXPECT_EQ(f.calls, 3);
  f.now += 1s;
  src.Refresh();
  EXPECT_EQ(f.calls, 3);
  f.now += 1s;
  src.Refresh();  // 403: next in 4 s
  EXPECT_EQ(f.calls, 4);
  f.now += 4s;
  s = src.Refresh();  // good again
  EXPECT_EQ(f.calls, 5);
  EXPECT_TRUE(s.state.up);
  EXPECT_TRUE(s.success);
  EXPECT_EQ(f.Errors("permission"), 3u);
}

TEST(KubeSourceTest, BackoffNeverExceedsTheRefreshInterval) {
  Fake f;
  f.replies = {TimeoutError("slow")};
  auto src = f.Make(3s);
  for (int i = 0; i < 6; ++i) {
    src.Refresh();
    f.now += 3s;
  }
  EXPECT_EQ(f.calls, 6);
  EXPECT_EQ(f.Errors("timeout"), 6u);
}

TEST(KubeSourceTest, GarbageBeforeAnySuccessLeavesNoClasses) {
  Fake f;
  f.replies = {std::string("<html>garbage</html>")};
  auto src = f.Make();
  RuntimeClassSync s = src.Refresh();
  EXPECT_FALSE(s.state.up);
  EXPECT_FALSE(s.state.runtime_classes);
  EXPECT_EQ(f.Errors("parse"), 1u);
}

TEST(KubeSourceTest, RejectedItemsAreReportedTheRestKept) {
  Fake f;
  f.replies = {std::string(
      R"({"kind":"RuntimeClassList","items":[{"metadata":{"name":"ok"},"handler":"runsc"},)"
      R"({"metadata":{"name":"Bad"},"handler":"runsc"}]})")};
  auto src = f.Make();
  RuntimeClassSync s = src.Refresh();
  EXPECT_TRUE(s.state.up);
  ASSERT_EQ(s.state.runtime_classes->size(), 1u);
  EXPECT_EQ(f.Errors("invalid"), 1u);
}

TEST(KubeSourceTest, ConfigErrorIsReportedAtEveryAttempt) {
  ErrorReporter errors;
  KubeSourceOptions o;
  o.config_error = NotFoundError("KUBERNETES_SERVICE_HOST not set");
  KubeRuntimeClassSource src(o, &errors);
  RuntimeClassSync s = src.Refresh();
  EXPECT_FALSE(s.state.up);
  EXPECT_FALSE(s.success);
  EXPECT_EQ((errors.Counts()[{"kubernetes", "not_found"}]), 1u);
}

}  // namespace
}  // namespace gvisor_exporter
