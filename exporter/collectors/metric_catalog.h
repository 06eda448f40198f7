// Every metric the exporter serves, defined once, next to the code that
// fills it.
//
// A metric is one MetricRow: name, type, help, label names, METRICS.md group
// and a fill function that reads the snapshot (or one sandbox of it, or the
// exporter's health at scrape time) and emits samples through a Samples
// writer, label values in the row's label order:
//
//   {.name = "gvisor_sandbox_pids", .type = kGauge, .help = "...",
//    .labels = {SANDBOX_LABELS}, .group = "In-sandbox usage",
//    .sandbox = [](const SandboxSnapshot& s, Samples& w) {
//      if (s.usage.pids) w.Add({}, static_cast<double>(*s.usage.pids));
//    }},
//
// Rows live in per-concern tables (metrics_<concern>.cc); MetricTables() in
// metric_catalog.cc lists the tables in exposition order, the only place a
// table is registered. The exposition is written family by family straight
// from the rows (AppendSnapshotText, AppendHealthText), the same rows render
// into prometheus::MetricFamily (SnapshotFamilies, HealthFamilies) for
// prometheus-cpp, and METRICS.md is generated from them
// (`gvisor-exporter --print-metrics-doc`), so the documentation cannot drift
// from the code.
#pragma once

#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/model/process_stats.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

using Families = std::vector<prometheus::MetricFamily>;

// The exporter's own state at scrape time.
struct ExporterHealth {
  std::map<std::pair<std::string, std::string>, uint64_t> error_counts;
  uint64_t suppressed_logs = 0;
  double now_seconds = 0;  // wall clock at scrape time, for the snapshot age
  // The exporter's process_* metrics, read at scrape time; unset: none.
  std::optional<ProcessStats> process;
};

struct MetricRow;

// Where a row's fill writes its samples (the text exposition or a
// prometheus::MetricFamily).
class Samples {
 public:
  using Values = std::initializer_list<std::string_view>;

  // One sample. `values` are the row's label values in the row's order; in a
  // per-sandbox row without the leading namespace, pod and sandbox_id, which
  // are the sandbox's. A wrong count of values is an internal error: logged,
  // counted (LabelArityErrors()) and the sample dropped.
  void Add(Values values, double value) { Add(values, {}, {}, value); }
  // For a row whose last labels are known only at run time (gvisor_pod_labels):
  // `extra_names`=`extra_values` follow the row's own labels.
  void Add(Values values, std::span<const std::string> extra_names,
           std::span<const std::string> extra_values, double value);

 protected:
  explicit Samples(const MetricRow& row);
  virtual ~Samples() = default;
  // A checked, complete sample: the label values of the row's labels, then
  // the extra ones. Sanitizing the values is the writer's job.
  virtual void Write(std::span<const std::string_view> values,
                     std::span<const std::string> extra_names,
                     std::span<const std::string> extra_values, double value) = 0;

  const MetricRow& row_;

 private:
  size_t fixed_labels_;  // the row's labels but a run-time "label_<key>..."
  friend class SampleWalker;
  const SandboxInfo* sandbox_ = nullptr;  // per-sandbox rows: the current sandbox
};

// One metric. Exactly one fill is set, which also says when it is rendered:
// per sandbox and per node with each snapshot (once per snapshot), per
// scrape with the exporter's health.
struct MetricRow {
  const char* name;
  prometheus::MetricType type;
  const char* help;
  // All label names, in order. A per-sandbox row's begin with SANDBOX_LABELS.
  // A last name ending in "..." (documentation only) stands for labels
  // whose names are known at run time (Samples::Add with extra names).
  std::vector<const char*> labels;
  const char* group;  // section in METRICS.md
  // Called for each sandbox of the snapshot, in the snapshot's order.
  void (*sandbox)(const SandboxSnapshot& sandbox, Samples& w) = nullptr;
  // Called once per snapshot.
  void (*node)(const NodeSnapshot& snap, Samples& w) = nullptr;
  // Called once per scrape; `snap` is null before the first poll.
  void (*scrape)(const NodeSnapshot* snap, const ExporterHealth& health, Samples& w) = nullptr;
  // METRICS.md lists this row right after the row of that name instead of
  // in exposition order (the exposition order predates the document's).
  const char* doc_after = nullptr;
};

// The labels every per-sandbox row begins with.
#define SANDBOX_LABELS "namespace", "pod", "sandbox_id"

using prometheus::MetricType;

// The per-concern tables (metrics_<concern>.cc), each in its exposition order.
std::span<const MetricRow> SandboxMetrics();   // identity, platform, in-sandbox usage
std::span<const MetricRow> HostMetrics();      // host processes, host cgroup, overhead
std::span<const MetricRow> SyscallMetrics();   // syscall statistics, trace packets
std::span<const MetricRow> PodMetrics();       // pods from CRI, sandboxing policy
std::span<const MetricRow> KubeMetrics();      // RuntimeClasses from the Kubernetes API
std::span<const MetricRow> NodeMetrics();      // sandboxes per root, runsc, KVM
std::span<const MetricRow> ExporterMetrics();  // the exporter's own health
std::span<const MetricRow> ProcessMetrics();   // the exporter's process_* metrics

// The rows of a source that the tables above do not cover (a new source, or
// one only a test links, whose facts are in Extensions): a namespace-scope
//   const RegisterMetricTable kRegistered(kRows);
// in the .cc file that defines the source's Read (so that linking the source
// links its rows) makes them rendered after the built-in per-node tables and
// documented in METRICS.md, with no line elsewhere. Registered tables are
// ordered by their first row's name, so the order does not depend on the
// link order.
class RegisterMetricTable {
 public:
  explicit RegisterMetricTable(std::span<const MetricRow> rows);
};

// The tables in exposition order (metric_catalog.cc), registered ones
// included. Not to be called during static initialization.
const std::vector<std::span<const MetricRow>>& MetricTables();
// All rows, in exposition order.
const std::vector<const MetricRow*>& AllMetrics();

// The snapshot's families (per-sandbox and per-node rows) as text, appended.
void AppendSnapshotText(const NodeSnapshot& snap, std::string* out);
// The per-scrape families as text, appended.
void AppendHealthText(const NodeSnapshot* snap, const ExporterHealth& health, std::string* out);
// The per-sandbox and per-node rows of `rows` as text, appended.
void AppendRowsText(std::span<const MetricRow> rows, const NodeSnapshot& snap, std::string* out);
// The same as prometheus-cpp families (a family per row that has samples).
void SnapshotFamilies(const NodeSnapshot& snap, Families* out);
void HealthFamilies(const NodeSnapshot* snap, const ExporterHealth& health, Families* out);

// Samples dropped for a wrong count of label values since start (tests).
uint64_t LabelArityErrors();

// Markdown reference of every metric (the content of METRICS.md).
std::string GenerateMetricsMarkdown();

}  // namespace gvisor_exporter
