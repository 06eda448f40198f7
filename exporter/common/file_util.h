// Bounded, symlink-safe file reading helpers for untrusted inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <string>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// Reads a whole file, failing with kTooLarge when it exceeds max_bytes.
// O_NOFOLLOW on the last component when no_follow is set. Works on /proc and
// cgroupfs files (which report size 0).
StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes,
                                      bool no_follow = false);

// Same, but relative to an open directory fd (openat with O_NOFOLLOW): the
// way to read a file inside a runsc root without following a symlink out of it.
StatusOr<std::string> ReadFileAtBounded(int dir_fd, const std::string& name, size_t max_bytes);

// Parses a decimal unsigned integer (surrounding whitespace allowed).
bool ParseUint64(std::string_view s, uint64_t* out);

}  // namespace gvisor_exporter
