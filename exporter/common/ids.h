// Validation of identifiers that come from untrusted sources (file names in a
// runsc root, state files, CRI). An id is used in paths, socket names and
// label values, so it is restricted to [A-Za-z0-9_.-], 1..kMaxIdLength chars,
// and may not be "." or "..".
#pragma once

#include <string_view>

namespace gvisor_exporter {

inline constexpr size_t kMaxIdLength = 128;

bool IsValidId(std::string_view id);

}  // namespace gvisor_exporter
