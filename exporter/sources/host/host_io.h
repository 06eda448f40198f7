// Small fd-based file helpers shared by the /proc and cgroupfs readers.
//
// Both readers open a directory once and read the files inside it relative to
// that fd: for /proc/<pid> this binds every read to one process (once the pid
// is reused, reads through the old fd fail with ESRCH instead of silently
// describing the new process); for cgroupfs it lets an untrusted cgroup path be
// walked one component at a time with O_NOFOLLOW.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/common/unique_fd.h"

namespace gvisor_exporter::host_io {

// Opens the directory `rel` below `dir_fd`, one component at a time with
// O_NOFOLLOW, so a symlink anywhere in `rel` fails with kInvalid. `rel` must be
// relative and free of "." / ".." components (checked: kInvalid).
StatusOr<UniqueFd> OpenDirBeneath(int dir_fd, std::string_view rel);

// Reads the file `rel` (a relative path, e.g. "stat" or "123/status") below
// `dir_fd`, O_NOFOLLOW on the last component, failing with kTooLarge beyond
// `max_bytes`. Works on /proc and cgroupfs files that report size 0.
// Not ReadFileAtBounded (file_util.h), which rejects any '/': reading
// "task/<tid>/children" under /proc/<pid> needs the components before the
// last one, and those are followed. That is safe only inside kernel-made trees
// (/proc/<pid>, a cgroup directory opened with OpenDirBeneath), never in a
// directory an untrusted party can write. Both share ReadFdBounded.
StatusOr<std::string> ReadAt(int dir_fd, const std::string& rel, size_t max_bytes);

// Returns the entries of the directory `rel` below `dir_fd` whose names are
// positive decimal numbers (pids, tids), at most `max_entries` of them.
StatusOr<std::vector<int64_t>> ListNumericEntries(int dir_fd, const std::string& rel,
                                                  size_t max_entries);

// Parses a positive decimal pid ("123"), rejecting signs, spaces and overflow.
bool ParsePid(std::string_view s, int64_t* pid);

// "123 456\n789" (children, cgroup.procs) -> {123, 456, 789}; other words
// are skipped.
std::vector<int64_t> ParsePidList(std::string_view text);

}  // namespace gvisor_exporter::host_io
