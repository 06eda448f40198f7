// The exporter's own health, rendered at every scrape: build info, per-source
// success and duration of the last poll, snapshot age, errors.
#include <algorithm>

#include "exporter/collectors/metric_catalog.h"
#include "exporter/common/version.h"

namespace gvisor_exporter {

namespace {

const MetricRow kRows[] = {
    {.name = "gvisor_exporter_build_info",
     .type = MetricType::Gauge,
     .help = "Always 1: version and compiler of this exporter.",
     .labels = {"version", "compiler"},
     .group = "Exporter",
     .scrape =
         [](const NodeSnapshot*, const ExporterHealth&, Samples& w) {
           w.Add({kVersion, "gcc " __VERSION__}, 1);
         }},
    {.name = "gvisor_exporter_collector_success",
     .type = MetricType::Gauge,
     .help = "1 when the source worked for every sandbox at the last poll, 0 when it failed for "
             "at least one (details in gvisor_exporter_errors_total).",
     .labels = {"collector"},
     .group = "Exporter",
     .scrape =
         [](const NodeSnapshot* snap, const ExporterHealth&, Samples& w) {
           if (snap == nullptr) return;
           for (const auto& [name, h] : snap->sources) w.Add({name}, h.success ? 1 : 0);
         }},
    {.name = "gvisor_exporter_collector_duration_seconds",
     .type = MetricType::Gauge,
     .help = "Time the source took during the last poll (summed over sandboxes).",
     .labels = {"collector"},
     .group = "Exporter",
     .scrape =
         [](const NodeSnapshot* snap, const ExporterHealth&, Samples& w) {
           if (snap == nullptr) return;
           for (const auto& [name, h] : snap->sources) w.Add({name}, h.duration_seconds);
         }},
    {.name = "gvisor_exporter_snapshot_age_seconds",
     .type = MetricType::Gauge,
     .help = "Seconds since the served snapshot was taken.",
     .labels = {},
     .group = "Exporter",
     .scrape =
         [](const NodeSnapshot* snap, const ExporterHealth& health, Samples& w) {
           if (snap != nullptr)
             w.Add({}, std::max(0.0, health.now_seconds - snap->timestamp_seconds));
         }},
    {.name = "gvisor_exporter_poll_duration_seconds",
     .type = MetricType::Gauge,
     .help = "Wall time of the last full poll of the node.",
     .labels = {},
     .group = "Exporter",
     .scrape =
         [](const NodeSnapshot* snap, const ExporterHealth&, Samples& w) {
           if (snap != nullptr) w.Add({}, snap->poll_duration_seconds);
         }},
    {.name = "gvisor_exporter_polls_total",
     .type = MetricType::Counter,
     .help = "Polls of the node completed since start.",
     .labels = {},
     .group = "Exporter",
     .scrape =
         [](const NodeSnapshot* snap, const ExporterHealth&, Samples& w) {
           w.Add({}, snap != nullptr ? static_cast<double>(snap->poll_count) : 0);
         }},
    {.name = "gvisor_exporter_errors_total",
     .type = MetricType::Counter,
     .help =
         "Errors met while reading sources, by source (runsc_state, control_socket, cli, procfs, "
         "cgroup, platform, syscalls, cri, kubernetes) and reason (not_found, permission, timeout, "
         "too_large, "
         "parse, invalid, "
         "unavailable, remote_error, io, internal).",
     .labels = {"source", "reason"},
     .group = "Exporter",
     .scrape =
         [](const NodeSnapshot*, const ExporterHealth& health, Samples& w) {
           for (const auto& [key, n] : health.error_counts) {
             w.Add({key.first, key.second}, static_cast<double>(n));
           }
         }},
    {.name = "gvisor_exporter_log_messages_suppressed_total",
     .type = MetricType::Counter,
     .help = "Error log lines suppressed by the per-error rate limit.",
     .labels = {},
     .group = "Exporter",
     .scrape = [](const NodeSnapshot*, const ExporterHealth& health,
                  Samples& w) { w.Add({}, static_cast<double>(health.suppressed_logs)); }},
};

}  // namespace

std::span<const MetricRow> ExporterMetrics() { return kRows; }

}  // namespace gvisor_exporter
