// The process_* metrics of the exporter itself: names, types and HELP texts
// exactly as Prometheus' client_golang process collector exposes them, so
// dashboards and alerts written for any Go exporter work unchanged.
#include "exporter/collectors/metric_catalog.h"

namespace gvisor_exporter {
namespace metric {

using prometheus::MetricType;

const MetricDef kProcessCpu{"process_cpu_seconds_total",
                            MetricType::Counter,
                            "Total user and system CPU time spent in seconds.",
                            {},
                            "Exporter process"};
const MetricDef kProcessResidentMemory{"process_resident_memory_bytes",
                                       MetricType::Gauge,
                                       "Resident memory size in bytes.",
                                       {},
                                       "Exporter process"};
const MetricDef kProcessVirtualMemory{"process_virtual_memory_bytes",
                                      MetricType::Gauge,
                                      "Virtual memory size in bytes.",
                                      {},
                                      "Exporter process"};
const MetricDef kProcessVirtualMemoryMax{"process_virtual_memory_max_bytes",
                                         MetricType::Gauge,
                                         "Maximum amount of virtual memory available in bytes.",
                                         {},
                                         "Exporter process"};
const MetricDef kProcessStartTime{"process_start_time_seconds",
                                  MetricType::Gauge,
                                  "Start time of the process since unix epoch in seconds.",
                                  {},
                                  "Exporter process"};
const MetricDef kProcessOpenFds{"process_open_fds",
                                MetricType::Gauge,
                                "Number of open file descriptors.",
                                {},
                                "Exporter process"};
const MetricDef kProcessMaxFds{"process_max_fds",
                               MetricType::Gauge,
                               "Maximum number of open file descriptors.",
                               {},
                               "Exporter process"};

}  // namespace metric
}  // namespace gvisor_exporter
