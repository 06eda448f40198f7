// Liveness checks through /proc for pids read from runsc state files.
//
// A state file survives its sandbox when the sandbox is killed (it still says
// "running"), and the pid in it may since have been reused by an unrelated
// process. A pid is only trusted when /proc/<pid>/cmdline shows the sentry of
// THIS sandbox: argv[0] contains "runsc-sandbox" and the last argument is the
// sandbox id (runsc appends the id after its flags: `runsc-sandbox ... boot
// ... <id>`). `comm` is useless here: every runsc process is called "exe".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/common/kept_files.h"
#include "exporter/common/pid_watch.h"
#include "exporter/common/status.h"

namespace gvisor_exporter {

// `cmdline` is the raw content of /proc/<pid>/cmdline (NUL-separated).
bool IsSentryCmdline(std::string_view cmdline, std::string_view sandbox_id);
bool IsGoferCmdline(std::string_view cmdline);

// Extracts field 22 (starttime, clock ticks since boot) of /proc/<pid>/stat.
// comm (field 2) may contain spaces and ')', so fields are counted from the
// LAST ')'.
bool ParseStatStartTime(std::string_view stat, uint64_t* start_time);

// Confirms that `<proc_root>/<pid>` is the sentry of `sandbox_id` and returns
// its start time. stat is read before cmdline: if the pid is reused after the
// stat read, the cmdline no longer matches; if it is reused after the cmdline
// read, the recorded start time exposes the reuse to later readers.
// Errors: kNotFound (no such process, a zombie, or another program), kParse
// (unparsable stat), or the read error.
// With `kept`, the cmdline is read through a descriptor kept open between
// polls (kept_files.h) and tagged with the start time: a kept /proc/<pid> file
// fails once its process is gone, so while it reads, the check is that one
// pread (stat is read only when the descriptor is new).
// With `watch` (pid_watch.h; preferred over `kept`), a sentry once verified
// is alive as long as its pidfd says so: no read at all.
StatusOr<uint64_t> CheckSentry(const std::string& proc_root, int64_t pid,
                               std::string_view sandbox_id, KeptFiles* kept = nullptr,
                               PidWatch* watch = nullptr);

// True when `<proc_root>/<pid>` exists and is a runsc gofer (`kept` and
// `watch` as above).
bool IsGoferAlive(const std::string& proc_root, int64_t pid, KeptFiles* kept = nullptr,
                  PidWatch* watch = nullptr);

}  // namespace gvisor_exporter
