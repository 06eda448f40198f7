// Bounded, symlink-safe file reading helpers for untrusted inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/common/status.h"
#include "exporter/common/unique_fd.h"

namespace gvisor_exporter {

// Reads a whole file, failing with kTooLarge when it exceeds max_bytes.
// O_NOFOLLOW on the last component when no_follow is set. Works on /proc and
// cgroupfs files (which report size 0).
StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes,
                                      bool no_follow = false);

// Same, but relative to an open directory fd (openat with O_NOFOLLOW): the
// way to read a file inside a runsc root without following a symlink out of it.
// `name` must be a single path component (kInvalid otherwise), so no symlink
// anywhere below `dir_fd` is ever followed. (host_io::ReadAt is the variant
// that accepts "task/<tid>/children"-like paths inside kernel-made trees.)
StatusOr<std::string> ReadFileAtBounded(int dir_fd, const std::string& name, size_t max_bytes);

// Reads `fd` (consumed: closed on return) to its end, failing with kTooLarge
// beyond `max_bytes`; `what` names the file in errors. The read loop behind
// the helpers above, for callers that open the file their own way.
StatusOr<std::string> ReadFdBounded(UniqueFd fd, const std::string& what, size_t max_bytes);

// What OpenDir reports when `path` (or a component of it) is not a directory.
enum class NotADirectory {
  kNotFound,  // ENOTDIR like any ErrnoError: e.g. /proc/<pid> of a gone process
  kInvalid,   // a configured root that is a file: a misconfiguration to report,
              // not "not created yet"
};

// Opens `path` as a directory, following symlinks: for trusted paths
// (configuration, /proc/<pid>, a cgroup mount), where hosts do symlink
// /var/run and the like.
StatusOr<UniqueFd> OpenDir(const std::string& path,
                           NotADirectory not_dir = NotADirectory::kNotFound);

// Parses a decimal unsigned integer (surrounding whitespace allowed).
bool ParseUint64(std::string_view s, uint64_t* out);

}  // namespace gvisor_exporter
