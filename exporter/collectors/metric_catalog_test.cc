#include "exporter/collectors/metric_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <set>
#include <string>

#include "exporter/collectors/testing_golden.h"
#include "exporter/collectors/testing_snapshot.h"

namespace gvisor_exporter {
namespace {

ExporterHealth GoldenHealth(const NodeSnapshot& snap) {
  ExporterHealth health;
  health.error_counts[{"cri", "timeout"}] = 3;
  health.suppressed_logs = 5;
  health.now_seconds = snap.timestamp_seconds + 1;
  health.process = MakeGoldenProcessStats();
  return health;
}

TEST(MetricCatalogTest, EveryRowHasOneFillAndWellFormedLabels) {
  std::set<std::string> names;
  for (const MetricRow* row : AllMetrics()) names.insert(row->name);
  for (const MetricRow* row : AllMetrics()) {
    SCOPED_TRACE(row->name);
    EXPECT_EQ((row->sandbox != nullptr) + (row->node != nullptr) + (row->scrape != nullptr), 1);
    if (row->sandbox != nullptr) {
      ASSERT_GE(row->labels.size(), 3u);
      EXPECT_STREQ(row->labels[0], "namespace");
      EXPECT_STREQ(row->labels[1], "pod");
      EXPECT_STREQ(row->labels[2], "sandbox_id");
    }
    EXPECT_LE(row->labels.size(), 16u);
    std::set<std::string> labels;
    for (size_t i = 0; i < row->labels.size(); ++i) {
      const std::string l = row->labels[i];
      EXPECT_TRUE(labels.insert(l).second) << "label twice: " << l;
      // Only the last label may stand for run-time labels.
      if (l.ends_with("...")) {
        EXPECT_EQ(i + 1, row->labels.size()) << l;
      }
    }
    if (row->doc_after != nullptr) {
      EXPECT_TRUE(names.count(row->doc_after)) << row->doc_after;
    }
  }
}

// Every row, fed inputs that have everything, renders samples, each with as
// many label values as the row has labels (a fill passing the wrong count is
// caught here: the sample is dropped and counted).
TEST(MetricCatalogTest, EveryRowRendersWithTheRightLabelCount) {
  const uint64_t errors_before = LabelArityErrors();
  const NodeSnapshot snap = MakeGoldenSnapshot();
  Families families;
  SnapshotFamilies(snap, &families);
  HealthFamilies(&snap, GoldenHealth(snap), &families);
  EXPECT_EQ(LabelArityErrors(), errors_before);
  std::map<std::string, const prometheus::MetricFamily*> by_name;
  for (const auto& f : families) by_name[f.name] = &f;
  for (const MetricRow* row : AllMetrics()) {
    SCOPED_TRACE(row->name);
    auto it = by_name.find(row->name);
    ASSERT_NE(it, by_name.end()) << "no samples";
    const bool run_time_labels =
        !row->labels.empty() && std::string(row->labels.back()).ends_with("...");
    for (const auto& m : it->second->metric) {
      if (run_time_labels) {
        EXPECT_GE(m.label.size(), row->labels.size());
      } else {
        EXPECT_EQ(m.label.size(), row->labels.size());
      }
      for (size_t i = 0; i < row->labels.size() && i < m.label.size(); ++i) {
        if (!std::string(row->labels[i]).ends_with("...")) {
          EXPECT_EQ(m.label[i].name, row->labels[i]);
        }
      }
    }
  }
  EXPECT_EQ(families.size(), AllMetrics().size());
}

// The direct text is what prometheus-cpp's serializer makes of the same rows
// rendered as families.
TEST(MetricCatalogTest, TextEqualsTextSerializerOfTheFamilies) {
  for (const NodeSnapshot& snap : {MakeTestSnapshot(), MakeGoldenSnapshot()}) {
    std::string text;
    AppendSnapshotText(snap, &text);
    Families families;
    SnapshotFamilies(snap, &families);
    EXPECT_EQ(text, prometheus::TextSerializer().Serialize(families));

    const ExporterHealth health = GoldenHealth(snap);
    std::string health_text;
    AppendHealthText(&snap, health, &health_text);
    Families health_families;
    HealthFamilies(&snap, health, &health_families);
    EXPECT_EQ(health_text, prometheus::TextSerializer().Serialize(health_families));
  }
  std::string before_first_poll;
  AppendHealthText(nullptr, ExporterHealth{}, &before_first_poll);
  Families families;
  HealthFamilies(nullptr, ExporterHealth{}, &families);
  EXPECT_EQ(before_first_poll, prometheus::TextSerializer().Serialize(families));
}

// A fill passing the wrong number of label values loses the sample, loudly.
const MetricRow kBadRow = {.name = "gvisor_test_bad",
                           .type = MetricType::Gauge,
                           .help = "Test.",
                           .labels = {"a", "b"},
                           .group = "Test",
                           .node = [](const NodeSnapshot&, Samples& w) {
                             w.Add({"only one"}, 1);
                             w.Add({"x", "y"}, 2);
                           }};

TEST(MetricCatalogTest, WrongLabelCountDropsTheSampleAndIsCounted) {
  // Rendered through a one-row table of its own: the writer is the same.
  const uint64_t before = LabelArityErrors();
  std::string text;
  AppendRowsText({&kBadRow, 1}, NodeSnapshot{}, &text);
  EXPECT_EQ(LabelArityErrors(), before + 1);
  EXPECT_EQ(text,
            "# HELP gvisor_test_bad Test.\n# TYPE gvisor_test_bad gauge\n"
            "gvisor_test_bad{a=\"x\",b=\"y\"} 2\n");
}

}  // namespace
}  // namespace gvisor_exporter
