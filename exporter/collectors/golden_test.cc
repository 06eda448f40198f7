// Pins the exposition byte for byte: family order, HELP texts, sample order,
// escaping and number formatting. The expected texts are in testdata/*.prom;
// after an intended change, rewrite them with
//   GVE_UPDATE_GOLDEN=1 build/collectors_test --gtest_filter='GoldenTest.*'
// and review the diff.
#include "exporter/testing/golden.h"

#include <gtest/gtest.h>

#include <string>

#include "exporter/collectors/metric_catalog.h"
#include "exporter/collectors/snapshot_collector.h"
#include "exporter/collectors/testing_golden.h"
#include "exporter/collectors/testing_snapshot.h"
#include "exporter/collectors/text_format.h"

namespace gvisor_exporter {
namespace {

// Compares `text` with testdata/<name>, or rewrites it with GVE_UPDATE_GOLDEN=1.
void ExpectGolden(const std::string& name, const std::string& text) {
  testing::ExpectGolden("exporter/collectors/testdata/" + name, text);
}

// The snapshot's part of the exposition (the health that follows it depends
// on the clock and the compiler).
std::string SnapshotText(const NodeSnapshot& snap) {
  SnapshotStore store;
  store.Publish(std::make_shared<NodeSnapshot>(snap));
  ErrorReporter errors;
  SnapshotCollector c(&store, &errors);
  std::string text;
  c.AppendExposition(&text);
  const size_t health = text.find("# HELP gvisor_exporter_build_info ");
  EXPECT_NE(health, std::string::npos);
  return text.substr(0, health);
}

// The exporter's health from fixed inputs, build info normalized.
std::string HealthText(const NodeSnapshot* snap) {
  ExporterHealth health;
  health.error_counts[{"cri", "timeout"}] = 3;
  health.error_counts[{"procfs", "not_found"}] = 12;
  health.suppressed_logs = 5;
  health.now_seconds = snap ? snap->timestamp_seconds + 2.5 : 0;
  health.process = MakeGoldenProcessStats();
  std::string text;
  AppendHealthText(snap, health, &text);
  const std::string build = "\ngvisor_exporter_build_info{";
  const size_t b = text.find(build);
  EXPECT_NE(b, std::string::npos);
  if (b != std::string::npos) {
    text.replace(b + 1, text.find('\n', b + 1) - b - 1, "gvisor_exporter_build_info{...} 1");
  }
  return text;
}

TEST(GoldenTest, TestSnapshot) {
  ExpectGolden("test_snapshot.prom", SnapshotText(MakeTestSnapshot()));
}

TEST(GoldenTest, SyntheticSnapshot) {
  ExpectGolden("synthetic_snapshot.prom", SnapshotText(MakeGoldenSnapshot()));
}

TEST(GoldenTest, Health) {
  const NodeSnapshot snap = MakeGoldenSnapshot();
  ExpectGolden("health.prom", HealthText(&snap));
  ExpectGolden("health_before_first_poll.prom", HealthText(nullptr));
}

}  // namespace
}  // namespace gvisor_exporter
