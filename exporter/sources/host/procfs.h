// Pure parsers for the /proc files that describe what a process costs the
// host. No I/O here: the readers in proc_reader.h feed them file contents, the
// fuzz target feeds them anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// The fields of /proc/<pid>/stat that we use (1-based field numbers from
// proc(5) in the comments). Times are in clock ticks (sysconf(_SC_CLK_TCK)).
// For a thread-group leader read via /proc/<pid>/stat, faults and times are
// summed over all live threads of the process (and its reaped threads).
struct ProcStat {
  int64_t pid = 0;           // 1
  std::string comm;          // 2, without the parentheses
  char state = '?';          // 3
  int64_t ppid = 0;          // 4
  uint64_t minflt = 0;       // 10
  uint64_t majflt = 0;       // 12
  uint64_t utime = 0;        // 14
  uint64_t stime = 0;        // 15
  uint64_t num_threads = 0;  // 20
  uint64_t starttime = 0;    // 22, ticks since boot: identifies a pid incarnation
  // 24, resident pages: the kernel's counters (no page walk, unlike
  // smaps_rollup). Unset when the line ends before it.
  std::optional<uint64_t> rss_pages;
  std::optional<uint64_t> vsize_bytes;  // 23, virtual memory size; set with rss_pages
};

// Parses /proc/<pid>/stat. comm may contain spaces, '(' and ')' (it is chosen
// by the process), so the fields after it are located from the LAST ')'.
// kParse when truncated before field 22 or when a used field is not a number.
StatusOr<ProcStat> ParseProcStat(std::string_view text);

// The fields of /proc/<pid>/status (or /proc/<pid>/task/<tid>/status) we use.
// Absent keys stay unset: older kernels or a truncated read.
struct ProcStatus {
  char state = '?';
  std::optional<uint64_t> threads;
  std::optional<int64_t> tracer_pid;
  // Per TASK: in /proc/<pid>/status these are the thread-group leader's own
  // switches only, not the process's (see ProcReader for the sum).
  std::optional<uint64_t> voluntary_ctxt_switches;
  std::optional<uint64_t> nonvoluntary_ctxt_switches;
};

// Parses "Key:\tvalue" lines. Unknown keys and lines are ignored; kParse when a
// key we use has a malformed value (garbage beats silently wrong numbers).
StatusOr<ProcStatus> ParseProcStatus(std::string_view text);

// Totals from /proc/<pid>/smaps_rollup, in bytes (the file says kB).
struct SmapsRollup {
  uint64_t rss = 0;
  uint64_t pss = 0;
  // Since Linux 5.x; left unset on older kernels.
  std::optional<uint64_t> pss_anon, pss_file, pss_shmem;
};

// kParse when Rss or Pss is missing or malformed (an empty file: see
// ProcReader, it means the process exited).
StatusOr<SmapsRollup> ParseSmapsRollup(std::string_view text);

}  // namespace gvisor_exporter
