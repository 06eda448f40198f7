#include "exporter/collectors/snapshot_collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <fstream>
#include <set>
#include <sstream>

#include "exporter/collectors/family_builder.h"
#include "exporter/collectors/metric_catalog.h"
#include "exporter/collectors/testing_snapshot.h"

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Render(const SnapshotStore& store, const ErrorReporter& errors) {
  SnapshotCollector c(&store, &errors);
  return prometheus::TextSerializer().Serialize(c.Collect());
}

TEST(SnapshotCollectorTest, RendersSandboxUsageHostCostAndOverhead) {
  SnapshotStore store;
  store.Publish(std::make_shared<NodeSnapshot>(MakeTestSnapshot()));
  ErrorReporter errors;
  const std::string text = Render(store, errors);
  const std::string l = R"(namespace="shop",pod="web-0",sandbox_id="sb1")";
  EXPECT_THAT(text, HasSubstr("gvisor_sandbox_memory_total_bytes{" + l + "} 69136384\n"));
  EXPECT_THAT(text,
              HasSubstr("gvisor_sandbox_memory_bytes{" + l + R"(,category="tmpfs"} 67108864)"));
  EXPECT_THAT(text, HasSubstr("gvisor_sandbox_pids{" + l + "} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("gvisor_container_cpu_seconds_total{" + l + R"(,container="app"} 0.61)"));
  EXPECT_THAT(text, HasSubstr("gvisor_sandbox_cpu_seconds_total{" + l + "} 0.61\n"));
  // Σ PSS = 80 MB + 6 MB + 1 MB = 87000000; overhead = 87000000 - 69136384.
  EXPECT_THAT(text, HasSubstr("gvisor_sandbox_memory_overhead_bytes{" + l + "} 17863616\n"));
  EXPECT_THAT(text, HasSubstr("gvisor_sandbox_memory_overhead_cgroup_bytes{" + l + "} 10358784\n"));
  EXPECT_THAT(
      text, HasSubstr("gvisor_sandbox_host_memory_pss_bytes{" + l + R"(,role="sentry"} 80000000)"));
  EXPECT_THAT(text, HasSubstr("gvisor_sandbox_host_processes{" + l + R"(,role="stub"} 1)"));
  EXPECT_THAT(text, HasSubstr("gvisor_sandbox_host_cpu_seconds_total{" + l +
                              R"(,role="sentry",mode="system"} 2.5)"));
  EXPECT_THAT(text, HasSubstr("gvisor_sandbox_cgroup_cpu_usage_seconds_total{" + l + "} 4.75\n"));
  EXPECT_THAT(text,
              HasSubstr("gvisor_sandbox_stats_path_info{" + l + R"(,path="control_socket"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(platform="ptrace",network="none")"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_sandboxes{root="/run/containerd/runsc/moby"} 0)"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_sandboxes{root="/run/containerd/runsc/k8s.io"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_runsc_info{version="0.0~20221219.0"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_exporter_collector_success{collector="procfs"} 0)"));
  EXPECT_THAT(text, HasSubstr("gvisor_exporter_polls_total 7\n"));
  // cgroup memory.stat entries that were not read are not invented.
  EXPECT_THAT(text, Not(HasSubstr(R"(type="rss")")));
}

TEST(SnapshotCollectorTest, GoneSandboxLeavesNoSeries) {
  SnapshotStore store;
  store.Publish(std::make_shared<NodeSnapshot>(MakeTestSnapshot()));
  ErrorReporter errors;
  ASSERT_THAT(Render(store, errors), HasSubstr("sb1"));
  NodeSnapshot empty = MakeTestSnapshot();
  empty.sandboxes.clear();
  store.Publish(std::make_shared<NodeSnapshot>(empty));
  EXPECT_THAT(Render(store, errors), Not(HasSubstr("sb1")));
}

TEST(SnapshotCollectorTest, BeforeFirstPollServesOnlyExporterHealth) {
  SnapshotStore store;
  ErrorReporter errors;
  errors.Report("runsc_state", ParseError("x"), "f");
  const std::string text = Render(store, errors);
  EXPECT_THAT(text,
              HasSubstr(R"(gvisor_exporter_errors_total{source="runsc_state",reason="parse"} 1)"));
  EXPECT_THAT(text, HasSubstr("gvisor_exporter_build_info"));
  EXPECT_THAT(text, Not(HasSubstr("gvisor_sandbox_")));
}

TEST(SnapshotCollectorTest, HostileLabelValuesAreEscapedAndBounded) {
  NodeSnapshot n = MakeTestSnapshot();
  n.sandboxes[0].info.pod_name = "a\"b\\c\nd\xff";
  n.sandboxes[0].info.containers[1].image = std::string(10000, 'x');
  SnapshotStore store;
  store.Publish(std::make_shared<NodeSnapshot>(n));
  ErrorReporter errors;
  const std::string text = Render(store, errors);
  EXPECT_THAT(text, HasSubstr(R"(pod="a\"b\\c\nd)"
                              "\xEF\xBF\xBD"
                              R"(")"));
  EXPECT_THAT(text, Not(HasSubstr(std::string(kMaxLabelValueBytes, 'x'))));
  EXPECT_THAT(text, HasSubstr("xxx...\""));
}

TEST(SnapshotCollectorTest, EverySeriesIsUniqueAndDeclared) {
  SnapshotStore store;
  store.Publish(std::make_shared<NodeSnapshot>(MakeTestSnapshot()));
  ErrorReporter errors;
  errors.Report("cli", TimeoutError("x"), "s");
  SnapshotCollector c(&store, &errors);
  std::set<std::string> declared;
  for (const MetricDef* d : AllMetrics()) declared.insert(d->name);
  std::set<std::string> seen;
  for (const auto& f : c.Collect()) {
    EXPECT_TRUE(declared.count(f.name)) << f.name;
    EXPECT_TRUE(seen.insert(f.name).second) << "family twice: " << f.name;
    std::set<std::vector<prometheus::ClientMetric::Label>> series;
    for (const auto& m : f.metric) {
      EXPECT_TRUE(series.insert(m.label).second) << "duplicate series in " << f.name;
      EXPECT_EQ(m.timestamp_ms, 0) << "no sample timestamps";
    }
  }
}

TEST(MetricCatalogTest, NamesFollowPrometheusConventions) {
  std::set<std::string> names;
  for (const MetricDef* d : AllMetrics()) {
    const std::string n = d->name;
    EXPECT_TRUE(names.insert(n).second) << "declared twice: " << n;
    EXPECT_EQ(n.rfind("gvisor_", 0), 0u) << n;
    const bool total = n.size() > 6 && n.substr(n.size() - 6) == "_total";
    EXPECT_EQ(total, d->type == prometheus::MetricType::Counter) << n;
    EXPECT_EQ(n.find("_ms"), std::string::npos) << n;
    EXPECT_EQ(n.find("_ns"), std::string::npos) << n;
    EXPECT_EQ(n.find("_kb"), std::string::npos) << n;
    EXPECT_NE(std::string(d->help), "") << n;
  }
}

TEST(MetricCatalogTest, MetricsMdIsGeneratedFromTheCode) {
  std::ifstream in(std::string(GVE_SOURCE_DIR) + "/METRICS.md");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), GenerateMetricsMarkdown())
      << "METRICS.md is stale: regenerate with `gvisor-exporter --print-metrics-doc > METRICS.md`";
}

}  // namespace
}  // namespace gvisor_exporter

namespace gvisor_exporter {
namespace {

// The text without the one line that changes between two renders (the age).
std::string WithoutAge(const std::string& text) {
  std::istringstream in(text);
  std::string out, line;
  while (std::getline(in, line)) {
    if (line.rfind("gvisor_exporter_snapshot_age_seconds ", 0) == 0) continue;
    out += line + "\n";
  }
  return out;
}

TEST(SnapshotCollectorTest, CachedExpositionEqualsAFreshRenderAndFollowsNewSnapshots) {
  SnapshotStore store;
  ErrorReporter errors;
  SnapshotCollector c(&store, &errors);
  std::string before;
  c.AppendExposition(&before);  // no snapshot yet: health only
  EXPECT_THAT(before, Not(HasSubstr("gvisor_sandbox_info")));

  auto first = std::make_shared<NodeSnapshot>(MakeTestSnapshot());
  first->poll_count = 1;
  store.Publish(first);
  c.Prepare();
  std::string a, b;
  c.AppendExposition(&a);
  c.AppendExposition(&b);
  EXPECT_EQ(WithoutAge(a), WithoutAge(b));
  EXPECT_EQ(WithoutAge(a), WithoutAge(prometheus::TextSerializer().Serialize(c.Collect())));

  // A new snapshot is never served from the old one's cache.
  auto second = std::make_shared<NodeSnapshot>(MakeTestSnapshot());
  second->poll_count = 2;
  second->sandboxes[0].info.pod_name = "web-1";
  store.Publish(second);
  std::string after;
  c.AppendExposition(&after);
  EXPECT_THAT(after, HasSubstr(R"(pod="web-1")"));
  EXPECT_THAT(after, Not(HasSubstr(R"(pod="web-0")")));
  // Error counts are live, not cached with the snapshot.
  errors.Report("cgroup", Status(Reason::kIo, "boom"), "x");
  std::string with_error;
  c.AppendExposition(&with_error);
  EXPECT_THAT(with_error,
              HasSubstr(R"(gvisor_exporter_errors_total{source="cgroup",reason="io"} 1)"));
}

}  // namespace
}  // namespace gvisor_exporter
