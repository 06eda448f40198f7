// Reads the process_* metrics of one process (the exporter itself) from
// procfs, the way Prometheus' client_golang process collector does.
//
// The exporter's own process is /proc/self of the procfs it runs with, not
// of --path.procfs: in the DaemonSet (hostPID, host /proc at /host/proc)
// both show it, but with a procfs of another PID namespace "self" would not
// exist there, so callers pass the exporter's own /proc.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "exporter/model/process_stats.h"

namespace gvisor_exporter {

class SelfProcessReader {
 public:
  // Reads <proc_root>/<pid>/{stat,fd,limits}; <proc_root>/stat's btime is
  // read once here (it does not change, and /proc/stat is long on big nodes).
  explicit SelfProcessReader(const std::string& proc_root = "/proc",
                             const std::string& pid = "self",
                             long ticks_per_second = sysconf(_SC_CLK_TCK),
                             long page_size = sysconf(_SC_PAGESIZE));

  // Cheap enough for every scrape (see self_process.cc). Never fails as a
  // whole: what cannot be read stays unset. open_fds is the last
  // CountOpenFds() once there was one, else counted now.
  ProcessStats Read() const;

  // Counts the fd directory now, for the following Read()s. Listing fd/
  // costs ~0.6 us per descriptor in the kernel (it instantiates a dentry per
  // entry), and the exporter keeps ~11 open per sandbox between polls
  // (common/kept_files.h): ~3.5 ms at 500 sandboxes, too much for every
  // scrape. The poller calls this after each poll, when the count changes.
  // On procfs of Linux >= 6.2 the count is the fd directory's size (one
  // stat); elsewhere the listing.
  void CountOpenFds();

  // Whether the count comes from the fd directory's size (tests).
  bool fd_count_from_size() const { return fd_count_from_size_; }

 private:
  const std::string dir_;  // <proc_root>/<pid>
  const bool is_self_;     // pid "self": the fd directory's own descriptor is ours
  const double ticks_per_second_;
  const double page_size_;
  std::optional<double> boot_time_seconds_;
  const bool fd_count_from_size_;
  std::atomic<int64_t> counted_fds_{-1};  // -1: never counted

  std::optional<double> OpenFdsNow() const;
};

// The soft limit of `name` ("Max open files") in a /proc/<pid>/limits text;
// "unlimited" is 2^64-1 as in client_golang (via procfs). Unset when absent
// or malformed.
std::optional<double> SoftLimit(const std::string& limits_text, const std::string& name);

}  // namespace gvisor_exporter
