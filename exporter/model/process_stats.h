// The exporter's own process, as the Prometheus client libraries' process
// collectors describe it (the process_* metrics).
#pragma once

#include <optional>

namespace gvisor_exporter {

// Each value is unset when the /proc file it comes from could not be read.
struct ProcessStats {
  std::optional<double> cpu_seconds;               // utime + stime
  std::optional<double> resident_memory_bytes;     // stat rss * page size
  std::optional<double> virtual_memory_bytes;      // stat vsize
  std::optional<double> start_time_seconds;        // unix time: btime + starttime
  std::optional<double> open_fds;                  // entries of fd/
  std::optional<double> max_fds;                   // RLIMIT_NOFILE soft limit
  std::optional<double> virtual_memory_max_bytes;  // RLIMIT_AS soft limit
};

}  // namespace gvisor_exporter
