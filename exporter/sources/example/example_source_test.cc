#include "exporter/sources/example/example_source.h"

#include <gtest/gtest.h>

#include "exporter/collectors/metric_catalog.h"
#include "exporter/testing/temp_dir.h"
#include "exporter/testing/test_poll.h"

namespace gvisor_exporter {
namespace {

TEST(ExampleSourceTest, ASourceFolderBringsItsFactsAndItsMetric) {
  testing::TempDir proc("gve-example-proc");
  proc.Write("stat", "cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n");
  NodeSnapshot snap;
  SandboxSnapshot sb;
  sb.info.id = "sb1";
  sb.info.pod_namespace = "ns";
  sb.info.pod_name = "web";
  sb.info.pid = 8680;
  sb.info.pid_start_time = 42368;  // clock ticks after boot
  snap.sandboxes = {sb};

  ExampleSource source(proc.path());
  testing::TestPoll poll(&snap);
  source.Read(poll);
  EXPECT_TRUE(snap.sources.at("example").success);
  const auto* facts = snap.sandboxes[0].extensions.Get<ExampleSandboxFacts>();
  ASSERT_NE(facts, nullptr);
  const double want = 1700000000 + 42368.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(facts->start_time_seconds, want);

  // Its row was registered by linking this folder: rendered and documented
  // with no line outside it.
  std::string text;
  AppendSnapshotText(snap, &text);
  const std::string series =
      "gvisor_example_sandbox_start_time_seconds{namespace=\"ns\",pod=\"web\",sandbox_id=\"sb1\"} ";
  const size_t at = text.find(series);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_DOUBLE_EQ(std::stod(text.substr(at + series.size())), want);
  EXPECT_NE(GenerateMetricsMarkdown().find("`gvisor_example_sandbox_start_time_seconds`"),
            std::string::npos);
}

TEST(ExampleSourceTest, AnUnreadableBootTimeIsCountedAndLeavesNoFacts) {
  testing::TempDir proc("gve-example-proc");
  proc.Write("stat", "cpu  1 2 3\n");
  NodeSnapshot snap;
  snap.sandboxes.resize(1);
  snap.sandboxes[0].info.pid = 1;
  ExampleSource source(proc.path());
  testing::TestPoll poll(&snap);
  source.Read(poll);
  EXPECT_FALSE(snap.sources.at("example").success);
  EXPECT_EQ(snap.sandboxes[0].extensions.Get<ExampleSandboxFacts>(), nullptr);
  EXPECT_EQ((poll.errors().Counts()[{"example", "parse"}]), 1u);
}

}  // namespace
}  // namespace gvisor_exporter
