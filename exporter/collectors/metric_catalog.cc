#include "exporter/collectors/metric_catalog.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <sstream>

#include "exporter/collectors/text_format.h"
#include "exporter/common/log.h"

namespace gvisor_exporter {

namespace {

// Tables of RegisterMetricTable, filled during static initialization.
std::vector<std::span<const MetricRow>>& RegisteredTables() {
  static std::vector<std::span<const MetricRow>> tables;
  return tables;
}

}  // namespace

RegisterMetricTable::RegisterMetricTable(std::span<const MetricRow> rows) {
  if (!rows.empty()) RegisteredTables().push_back(rows);
}

const std::vector<std::span<const MetricRow>>& MetricTables() {
  // The built-in tables are listed here; a table listed here is rendered and
  // documented. Per-scrape tables stay last (they follow the snapshot's text).
  static const std::vector<std::span<const MetricRow>> tables = [] {
    std::vector<std::span<const MetricRow>> t = {SandboxMetrics(), HostMetrics(), SyscallMetrics(),
                                                 PodMetrics(),     KubeMetrics(), NodeMetrics()};
    std::vector<std::span<const MetricRow>> registered = RegisteredTables();
    std::sort(registered.begin(), registered.end(),
              [](std::span<const MetricRow> a, std::span<const MetricRow> b) {
                return std::string_view(a.front().name) < std::string_view(b.front().name);
              });
    t.insert(t.end(), registered.begin(), registered.end());
    t.push_back(ExporterMetrics());
    t.push_back(ProcessMetrics());
    return t;
  }();
  return tables;
}

const std::vector<const MetricRow*>& AllMetrics() {
  static const std::vector<const MetricRow*> all = [] {
    std::vector<const MetricRow*> rows;
    for (std::span<const MetricRow> table : MetricTables()) {
      for (const MetricRow& row : table) rows.push_back(&row);
    }
    return rows;
  }();
  return all;
}

namespace {

std::atomic<uint64_t> label_arity_errors{0};

constexpr size_t kSandboxLabels = 3;  // SANDBOX_LABELS
constexpr size_t kMaxLabels = 16;     // per row (a unit test checks every row)

}  // namespace

uint64_t LabelArityErrors() { return label_arity_errors.load(); }

// Sets the sandbox of a Samples writer for per-sandbox rows.
class SampleWalker {
 public:
  static void SetSandbox(Samples& w, const SandboxInfo* info) { w.sandbox_ = info; }
};

Samples::Samples(const MetricRow& row) : row_(row), fixed_labels_(row.labels.size()) {
  if (fixed_labels_ > 0 && std::string_view(row.labels.back()).ends_with("...")) --fixed_labels_;
}

void Samples::Add(Values values, std::span<const std::string> extra_names,
                  std::span<const std::string> extra_values, double value) {
  const size_t prefix = sandbox_ != nullptr ? kSandboxLabels : 0;
  if (prefix + values.size() != fixed_labels_ || fixed_labels_ > kMaxLabels ||
      extra_names.size() != extra_values.size() ||
      (!extra_names.empty() && fixed_labels_ == row_.labels.size())) {
    label_arity_errors.fetch_add(1, std::memory_order_relaxed);
    LogError("internal: wrong number of label values",
             {{"metric", row_.name}, {"got", prefix + values.size()}, {"want", fixed_labels_}});
    return;
  }
  if (prefix == 0) {
    Write({values.begin(), values.size()}, extra_names, extra_values, value);
    return;
  }
  std::string_view all[kMaxLabels];
  all[0] = sandbox_->pod_namespace;
  all[1] = sandbox_->pod_name;
  all[2] = sandbox_->id;
  std::copy(values.begin(), values.end(), all + prefix);
  Write({all, prefix + values.size()}, extra_names, extra_values, value);
}

namespace {

// Writes a row's samples as exposition text.
class TextSamples final : public Samples {
 public:
  TextSamples(const MetricRow& row, std::string* out) : Samples(row), out_(out) {}

 private:
  void Write(std::span<const std::string_view> values, std::span<const std::string> extra_names,
             std::span<const std::string> extra_values, double value) override {
    std::string* out = out_;
    out->append(row_.name);
    if (!values.empty() || !extra_names.empty()) {
      char sep = '{';
      for (size_t i = 0; i < values.size(); ++i) {
        out->push_back(sep);
        sep = ',';
        out->append(row_.labels[i]).append("=\"");
        AppendSanitizedLabelValue(values[i], out);
        out->push_back('"');
      }
      for (size_t i = 0; i < extra_names.size(); ++i) {
        out->push_back(sep);
        sep = ',';
        out->append(extra_names[i]).append("=\"");
        AppendSanitizedLabelValue(extra_values[i], out);
        out->push_back('"');
      }
      out->push_back('}');
    }
    out->push_back(' ');
    AppendSampleValue(value, out);
    out->push_back('\n');
  }

  std::string* out_;
};

// Adds a row's samples to a prometheus::MetricFamily.
class FamilySamples final : public Samples {
 public:
  FamilySamples(const MetricRow& row, prometheus::MetricFamily* family)
      : Samples(row), family_(family) {}

 private:
  void Write(std::span<const std::string_view> values, std::span<const std::string> extra_names,
             std::span<const std::string> extra_values, double value) override {
    prometheus::ClientMetric m;
    m.label.reserve(values.size() + extra_names.size());
    for (size_t i = 0; i < values.size(); ++i) {
      m.label.push_back({row_.labels[i], SanitizeLabelValue(values[i])});
    }
    for (size_t i = 0; i < extra_names.size(); ++i) {
      m.label.push_back({extra_names[i], SanitizeLabelValue(extra_values[i])});
    }
    if (row_.type == prometheus::MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    family_->metric.push_back(std::move(m));
  }

  prometheus::MetricFamily* family_;
};

// Runs the fill of `row` that `snap`/`health` can serve into `w`.
void FillSnapshotRow(const MetricRow& row, const NodeSnapshot& snap, Samples& w) {
  if (row.sandbox != nullptr) {
    for (const SandboxSnapshot& s : snap.sandboxes) {
      SampleWalker::SetSandbox(w, &s.info);
      row.sandbox(s, w);
    }
    SampleWalker::SetSandbox(w, nullptr);
  } else if (row.node != nullptr) {
    row.node(snap, w);
  }
}

// A row as text: HELP, TYPE and its samples; nothing when it has none.
template <typename Fill>
void AppendRowText(const MetricRow& row, std::string* out, const Fill& fill) {
  const size_t start = out->size();
  if (!AppendFamilyHeader(row.name, row.type, row.help, out)) return;
  const size_t samples = out->size();
  TextSamples w(row, out);
  fill(w);
  if (out->size() == samples) out->resize(start);
}

template <typename Fill>
void AddRowFamily(const MetricRow& row, Families* out, const Fill& fill) {
  prometheus::MetricFamily f;
  f.name = row.name;
  f.help = row.help;
  f.type = row.type;
  FamilySamples w(row, &f);
  fill(w);
  if (!f.metric.empty()) out->push_back(std::move(f));
}

}  // namespace

void AppendRowsText(std::span<const MetricRow> rows, const NodeSnapshot& snap, std::string* out) {
  for (const MetricRow& row : rows) {
    if (row.sandbox == nullptr && row.node == nullptr) continue;
    AppendRowText(row, out, [&](Samples& w) { FillSnapshotRow(row, snap, w); });
  }
}

void AppendSnapshotText(const NodeSnapshot& snap, std::string* out) {
  for (std::span<const MetricRow> table : MetricTables()) AppendRowsText(table, snap, out);
}

void SnapshotFamilies(const NodeSnapshot& snap, Families* out) {
  for (const MetricRow* row : AllMetrics()) {
    if (row->sandbox == nullptr && row->node == nullptr) continue;
    AddRowFamily(*row, out, [&](Samples& w) { FillSnapshotRow(*row, snap, w); });
  }
}

void AppendHealthText(const NodeSnapshot* snap, const ExporterHealth& health, std::string* out) {
  for (const MetricRow* row : AllMetrics()) {
    if (row->scrape == nullptr) continue;
    AppendRowText(*row, out, [&](Samples& w) { row->scrape(snap, health, w); });
  }
}

void HealthFamilies(const NodeSnapshot* snap, const ExporterHealth& health, Families* out) {
  for (const MetricRow* row : AllMetrics()) {
    if (row->scrape == nullptr) continue;
    AddRowFamily(*row, out, [&](Samples& w) { row->scrape(snap, health, w); });
  }
}

namespace {
const char* TypeName(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Histogram:
      return "histogram";
    case prometheus::MetricType::Summary:
      return "summary";
    default:
      return "untyped";
  }
}
// The rows in METRICS.md's order: exposition order, except that a row with
// doc_after follows the row it names.
std::vector<const MetricRow*> DocumentationOrder() {
  std::vector<const MetricRow*> order;
  std::set<const MetricRow*> placed;
  // Appends `row` and, recursively, the rows placed after it.
  auto place = [&](const MetricRow* row, auto& self) -> void {
    if (!placed.insert(row).second) return;
    order.push_back(row);
    for (const MetricRow* r : AllMetrics()) {
      if (r->doc_after != nullptr && std::string_view(r->doc_after) == row->name) self(r, self);
    }
  };
  for (const MetricRow* row : AllMetrics()) {
    if (row->doc_after == nullptr) place(row, place);
  }
  // A doc_after naming no row (a unit test forbids it) still gets documented.
  for (const MetricRow* row : AllMetrics()) place(row, place);
  return order;
}

}  // namespace

std::string GenerateMetricsMarkdown() {
  std::ostringstream out;
  out << "# Metric reference\n\n"
      << "Generated from the exporter's own metric table (`gvisor-exporter --print-metrics-doc`); "
         "a "
         "unit test fails when this file and the code disagree.\n\n"
      << "Per-sandbox series carry `namespace`, `pod` (from the CRI annotations in the state file; "
         "empty for sandboxes not started by a CRI runtime) and `sandbox_id`. Label cardinality is "
         "bounded: per sandbox, one series per container, per role (4), per memory category (7), "
         "per mode/type (2) and per network interface (at most 32); syscall series per container "
         "by syscall (at most "
         "--syscalls.max-per-container + 1) and errno pair (at most "
         "--syscalls.max-errors-per-container + 1); node series by runsc root; error series by "
         "source (9) x reason (10); pod series by pod sandbox. Series of a sandbox disappear "
         "with the first poll after it is "
         "gone. The process_* series describe the exporter's own process (names and help as "
         "Prometheus' client_golang), read from its /proc/self at each scrape.\n";
  const char* group = "";
  for (const MetricRow* d : DocumentationOrder()) {
    if (std::string(group) != d->group) {
      group = d->group;
      out << "\n## " << group << "\n\n| name | type | labels | meaning |\n|---|---|---|---|\n";
    }
    out << "| `" << d->name << "` | " << TypeName(d->type) << " | ";
    for (size_t i = 0; i < d->labels.size(); ++i)
      out << (i ? ", " : "") << "`" << d->labels[i] << "`";
    out << " | " << d->help << " |\n";
  }
  return out.str();
}

}  // namespace gvisor_exporter
