#include "exporter/sources/trace/trace_session_source.h"

#include <gtest/gtest.h>

namespace gvisor_exporter {
namespace {

SandboxInfo Sandbox(const std::string& ns, const std::string& annotation = "") {
  SandboxInfo sb;
  sb.root = "/nonexistent-root";
  sb.id = "sb-" + ns;
  sb.pid = 1;
  sb.pod_namespace = ns;
  sb.syscalls_annotation = annotation;
  return sb;
}

TEST(TraceSessionSource, OptIn) {
  ErrorReporter errors;
  TraceSessionOptions o;
  o.namespaces = {"untrusted"};
  TraceSessionSource src(o, &errors);
  EXPECT_TRUE(src.OptedIn(Sandbox("untrusted")));
  EXPECT_FALSE(src.OptedIn(Sandbox("default")));
  EXPECT_TRUE(src.OptedIn(Sandbox("default", "true")));
  EXPECT_FALSE(src.OptedIn(Sandbox("untrusted", "false")));  // the pod opts out
  EXPECT_FALSE(src.OptedIn(Sandbox("default", "yes")));      // only "true" opts in
  o.all = true;
  TraceSessionSource all(o, &errors);
  EXPECT_TRUE(all.OptedIn(Sandbox("default")));
  EXPECT_FALSE(all.OptedIn(Sandbox("default", "false")));
}

TEST(TraceSessionSource, SessionConfigEnablesEnterAndExitPointsWithContainerContext) {
  ErrorReporter errors;
  TraceSessionOptions o;
  o.reader.arch = Arch::kX86_64;
  TraceSessionSource src(o, &errors);
  const auto cfg = src.SessionConfig();
  EXPECT_EQ(cfg["name"], "Default");
  EXPECT_EQ(cfg["ignore_missing"], true);
  EXPECT_EQ(cfg["sinks"][0]["name"], "remote");
  EXPECT_EQ(cfg["sinks"][0]["config"]["retries"], 0);
  EXPECT_FALSE(cfg["sinks"][0]["config"].contains("endpoint"));  // the fd is the endpoint
  const auto& points = cfg["points"];
  // Every named x86-64 syscall below 512, enter + exit.
  EXPECT_EQ(points.size(), 2u * 362u);
  EXPECT_EQ(points[0]["name"], "syscall/sysno/0/enter");
  EXPECT_EQ(points[0]["context_fields"], nlohmann::json::array({"container_id"}));
  EXPECT_EQ(points[1]["name"], "syscall/sysno/0/exit");
  EXPECT_FALSE(points[1].contains("context_fields"));

  o.errors = false;
  o.syscalls = {110};
  TraceSessionSource filtered(o, &errors);
  EXPECT_EQ(filtered.SessionConfig()["points"],
            nlohmann::json::parse(
                R"([{"name":"syscall/sysno/110/enter","context_fields":["container_id"]}])"));
}

TEST(TraceSessionSource, UnreachableSandboxIsAnErrorStateNotACrash) {
  ErrorReporter errors;
  TraceSessionOptions o;
  o.all = true;
  o.urpc.call_timeout = std::chrono::milliseconds(200);
  TraceSessionSource src(o, &errors);
  ASSERT_TRUE(src.Start().ok());
  SandboxInfo sb = Sandbox("default");
  sb.id = "gve-test-no-such-sandbox";
  auto sync = src.Sync({sb});
  EXPECT_FALSE(sync.success);
  ASSERT_EQ(sync.sandboxes.size(), 1u);
  const auto& stats = sync.sandboxes.begin()->second;
  EXPECT_EQ(stats.mode, "attach");
  EXPECT_EQ(stats.state, TraceSessionState::kError);
  EXPECT_GE(errors.Counts().size(), 1u);
  // Backoff: the next poll does not try again at once (and so reports success).
  auto again = src.Sync({sb});
  EXPECT_TRUE(again.success);
  EXPECT_EQ(again.sandboxes.begin()->second.state, TraceSessionState::kError);
  // A sandbox that is gone is forgotten.
  EXPECT_TRUE(src.Sync({}).sandboxes.empty());
}

TEST(TraceSessionSource, NothingOptedInMeansNoSeries) {
  ErrorReporter errors;
  TraceSessionSource src({}, &errors);
  ASSERT_TRUE(src.Start().ok());
  auto sync = src.Sync({Sandbox("default")});
  EXPECT_TRUE(sync.success);
  EXPECT_TRUE(sync.sandboxes.empty());
}

}  // namespace
}  // namespace gvisor_exporter
