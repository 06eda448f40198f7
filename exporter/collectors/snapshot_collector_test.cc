#include "exporter/collectors/snapshot_collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <set>
#include <sstream>
#include <thread>

#include "exporter/collectors/metric_catalog.h"
#include "exporter/collectors/testing_gzip.h"
#include "exporter/collectors/testing_snapshot.h"
#include "exporter/collectors/text_format.h"
#include "exporter/testing/fixtures.h"

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
  for (const MetricRow* d : AllMetrics()) declared.insert(d->name);
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
  for (const MetricRow* d : AllMetrics()) {
    const std::string n = d->name;
    EXPECT_TRUE(names.insert(n).second) << "declared twice: " << n;
    // process_* are the client libraries' standard names for the exporter itself.
    EXPECT_TRUE(n.rfind("gvisor_", 0) == 0 || n.rfind("process_", 0) == 0) << n;
    const bool total = n.size() > 6 && n.substr(n.size() - 6) == "_total";
    EXPECT_EQ(total, d->type == prometheus::MetricType::Counter) << n;
    EXPECT_EQ(n.find("_ms"), std::string::npos) << n;
    EXPECT_EQ(n.find("_ns"), std::string::npos) << n;
    EXPECT_EQ(n.find("_kb"), std::string::npos) << n;
    EXPECT_NE(std::string(d->help), "") << n;
  }
}

TEST(MetricCatalogTest, MetricsMdIsGeneratedFromTheCode) {
  EXPECT_EQ(testing::ReadFixture("METRICS.md"), GenerateMetricsMarkdown())
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

namespace gvisor_exporter {
namespace {

std::string Join(const BodyPieces& pieces) {
  std::string out;
  for (const auto& p : pieces) out += *p;
  return out;
}

std::string Parts(const SnapshotCollector& c, bool gzip) {
  BodyPieces pieces;
  c.ExpositionParts(gzip, &pieces);
  return Join(pieces);
}

std::string Gunzip(const std::string& body) {
  std::string out, why;
  EXPECT_TRUE(GunzipOneMember(body, &out, &why)) << why;
  return out;
}

// A snapshot from the future: its age renders as 0 at any time, so two
// expositions of it are byte-for-byte equal.
std::shared_ptr<NodeSnapshot> TimelessSnapshot(uint64_t poll, const std::string& pod = "web-0") {
  auto n = std::make_shared<NodeSnapshot>(MakeTestSnapshot());
  n->timestamp_seconds = 1e12;
  n->poll_count = poll;
  n->sandboxes[0].info.pod_name = pod;
  return n;
}

TEST(SnapshotCollectorGzipTest, GzipExpositionInflatesToTheIdentityOne) {
  SnapshotStore store;
  ErrorReporter errors;
  errors.Report("cli", TimeoutError("x"), "s");
  SnapshotCollector c(&store, &errors);
  store.Publish(TimelessSnapshot(1));
  const std::string identity = Parts(c, false);
  EXPECT_THAT(identity, HasSubstr(R"(pod="web-0")"));
  EXPECT_THAT(identity, HasSubstr("gvisor_exporter_snapshot_age_seconds 0\n"));
  std::string copied;
  c.AppendExposition(&copied);
  EXPECT_EQ(identity, copied);
  EXPECT_EQ(Gunzip(Parts(c, true)), identity);
}

TEST(SnapshotCollectorGzipTest, TheCachedTextIsSharedNotCopied) {
  SnapshotStore store;
  ErrorReporter errors;
  SnapshotCollector c(&store, &errors);
  store.Publish(TimelessSnapshot(1));
  c.Prepare();
  BodyPieces a, b, ga, gb;
  c.ExpositionParts(false, &a);
  c.ExpositionParts(false, &b);
  ASSERT_EQ(a.size(), 2u);  // the snapshot's text, the health
  EXPECT_EQ(a[0].get(), b[0].get());
  c.ExpositionParts(true, &ga);
  c.ExpositionParts(true, &gb);
  ASSERT_EQ(ga.size(), 3u);  // header, the snapshot's compressed text, the health + trailer
  EXPECT_EQ(ga[1].get(), gb[1].get());
}

TEST(SnapshotCollectorGzipTest, CompressesOncePerSnapshotAndInPrepareOnlyAfterAGzipScrape) {
  SnapshotStore store;
  ErrorReporter errors;
  SnapshotCollector c(&store, &errors);
  store.Publish(TimelessSnapshot(1));
  c.Prepare();
  Parts(c, false);
  EXPECT_EQ(c.compressions(), 0u) << "nobody asked for gzip yet";
  const std::string first = Gunzip(Parts(c, true));  // the first gzip scrape compresses
  EXPECT_EQ(c.compressions(), 1u);
  Parts(c, true);
  c.Prepare();
  EXPECT_EQ(c.compressions(), 1u) << "once per snapshot";
  EXPECT_THAT(first, HasSubstr(R"(pod="web-0")"));

  // A new snapshot: Prepare compresses it now, and a gzip scrape serves it,
  // not the old snapshot's compressed text.
  store.Publish(TimelessSnapshot(2, "web-1"));
  c.Prepare();
  EXPECT_EQ(c.compressions(), 2u);
  const std::string second = Gunzip(Parts(c, true));
  EXPECT_EQ(c.compressions(), 2u);
  EXPECT_THAT(second, HasSubstr(R"(pod="web-1")"));
  EXPECT_THAT(second, Not(HasSubstr(R"(pod="web-0")")));
  EXPECT_EQ(second, Parts(c, false));

  // Without Prepare (a scrape before the poller's after_publish ran).
  store.Publish(TimelessSnapshot(3, "web-2"));
  const std::string third = Gunzip(Parts(c, true));
  EXPECT_THAT(third, HasSubstr(R"(pod="web-2")"));
  EXPECT_EQ(c.compressions(), 3u);
  EXPECT_EQ(third, Parts(c, false));
}

TEST(SnapshotCollectorGzipTest, ConcurrentGzipScrapesOfANewSnapshotCompressItOnce) {
  SnapshotStore store;
  ErrorReporter errors;
  SnapshotCollector c(&store, &errors);
  store.Publish(TimelessSnapshot(1));
  const std::string identity = Parts(c, false);
  std::vector<std::string> bodies(8);
  std::vector<std::thread> threads;
  threads.reserve(bodies.size());
  for (auto& body : bodies) threads.emplace_back([&c, &body] { body = Parts(c, true); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.compressions(), 1u);
  for (const auto& body : bodies) EXPECT_EQ(Gunzip(body), identity);
}

TEST(SnapshotCollectorGzipTest, EmptySnapshotsAndNoSnapshot) {
  SnapshotStore store;
  ErrorReporter errors;
  SnapshotCollector c(&store, &errors);
  // Before the first poll: the health alone.
  const std::string health = Parts(c, false);
  EXPECT_THAT(health, HasSubstr("gvisor_exporter_build_info"));
  EXPECT_EQ(Gunzip(Parts(c, true)), health);
  // No sandboxes.
  auto empty = TimelessSnapshot(1);
  empty->sandboxes.clear();
  store.Publish(empty);
  c.Prepare();
  const std::string identity = Parts(c, false);
  EXPECT_THAT(identity, Not(HasSubstr("sb1")));
  EXPECT_EQ(Gunzip(Parts(c, true)), identity);
}

}  // namespace
}  // namespace gvisor_exporter

namespace gvisor_exporter {
namespace {

TEST(SnapshotCollectorProcessTest, ProcessMetricsAreReadAtEveryScrapeWithClientGolangHelp) {
  SnapshotStore store;
  ErrorReporter errors;
  int reads = 0;
  SnapshotCollector c(&store, &errors, [&reads] {
    ProcessStats s;
    s.cpu_seconds = 1.5 + reads++;
    s.open_fds = 12;
    s.max_fds = 1024;
    s.start_time_seconds = 1700000000.25;
    return s;  // resident/virtual memory unset: not rendered
  });
  store.Publish(TimelessSnapshot(1));
  const std::string first = Parts(c, false);
  EXPECT_THAT(first, HasSubstr("# HELP process_cpu_seconds_total Total user and system CPU time "
                               "spent in seconds.\n# TYPE process_cpu_seconds_total counter\n"
                               "process_cpu_seconds_total 1.5\n"));
  EXPECT_THAT(first, HasSubstr("# HELP process_open_fds Number of open file descriptors.\n"
                               "# TYPE process_open_fds gauge\nprocess_open_fds 12\n"));
  EXPECT_THAT(first,
              HasSubstr("# HELP process_max_fds Maximum number of open file "
                        "descriptors.\n# TYPE process_max_fds gauge\nprocess_max_fds 1024\n"));
  EXPECT_THAT(first, HasSubstr("# HELP process_start_time_seconds Start time of the process since "
                               "unix epoch in seconds.\n# TYPE process_start_time_seconds gauge\n"
                               "process_start_time_seconds 1700000000.25\n"));
  EXPECT_THAT(first, Not(HasSubstr("process_resident_memory_bytes")));
  // The snapshot's cached text is reused, the process values are not.
  EXPECT_THAT(Gunzip(Parts(c, true)), HasSubstr("process_cpu_seconds_total 2.5\n"));
  EXPECT_EQ(reads, 2);
}

}  // namespace
}  // namespace gvisor_exporter
