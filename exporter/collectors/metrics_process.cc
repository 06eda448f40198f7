// The process_* metrics of the exporter itself, read at every scrape: names,
// types and HELP texts exactly as Prometheus' client_golang process collector
// exposes them, so dashboards and alerts written for any Go exporter work
// unchanged. A family per value the reader got.
#include <optional>

#include "exporter/collectors/metric_catalog.h"

namespace gvisor_exporter {

namespace {

template <std::optional<double> ProcessStats::*field>
void Value(const NodeSnapshot*, const ExporterHealth& health, Samples& w) {
  if (health.process && (*health.process).*field) w.Add({}, *((*health.process).*field));
}

const MetricRow kRows[] = {
    {.name = "process_cpu_seconds_total",
     .type = MetricType::Counter,
     .help = "Total user and system CPU time spent in seconds.",
     .labels = {},
     .group = "Exporter process",
     .scrape = Value<&ProcessStats::cpu_seconds>},
    {.name = "process_open_fds",
     .type = MetricType::Gauge,
     .help = "Number of open file descriptors.",
     .labels = {},
     .group = "Exporter process",
     .scrape = Value<&ProcessStats::open_fds>,
     .doc_after = "process_start_time_seconds"},
    {.name = "process_max_fds",
     .type = MetricType::Gauge,
     .help = "Maximum number of open file descriptors.",
     .labels = {},
     .group = "Exporter process",
     .scrape = Value<&ProcessStats::max_fds>,
     .doc_after = "process_open_fds"},
    {.name = "process_virtual_memory_bytes",
     .type = MetricType::Gauge,
     .help = "Virtual memory size in bytes.",
     .labels = {},
     .group = "Exporter process",
     .scrape = Value<&ProcessStats::virtual_memory_bytes>},
    {.name = "process_virtual_memory_max_bytes",
     .type = MetricType::Gauge,
     .help = "Maximum amount of virtual memory available in bytes.",
     .labels = {},
     .group = "Exporter process",
     .scrape = Value<&ProcessStats::virtual_memory_max_bytes>},
    {.name = "process_resident_memory_bytes",
     .type = MetricType::Gauge,
     .help = "Resident memory size in bytes.",
     .labels = {},
     .group = "Exporter process",
     .scrape = Value<&ProcessStats::resident_memory_bytes>,
     .doc_after = "process_cpu_seconds_total"},
    {.name = "process_start_time_seconds",
     .type = MetricType::Gauge,
     .help = "Start time of the process since unix epoch in seconds.",
     .labels = {},
     .group = "Exporter process",
     .scrape = Value<&ProcessStats::start_time_seconds>},
};

}  // namespace

std::span<const MetricRow> ProcessMetrics() { return kRows; }

}  // namespace gvisor_exporter
