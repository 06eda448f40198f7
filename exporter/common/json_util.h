// Safe JSON parsing for untrusted input (state files, urpc replies, runsc CLI).
//
// nlohmann::json parses recursively, so a deeply nested document could
// exhaust the stack: the nesting depth is checked by a linear pre-scan first.
// Parse errors come back as Status, never as exceptions.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "exporter/common/status.h"

namespace gvisor_exporter {

inline constexpr size_t kDefaultMaxJsonDepth = 64;

// Returns the maximum nesting depth of arrays/objects (strings are skipped),
// stopping early once `limit` is exceeded (then returns limit + 1).
size_t JsonNestingDepth(std::string_view text, size_t limit);

// Parses `text` as one JSON value. Fails with kTooLarge when nested deeper
// than max_depth, kParse on malformed or trailing input.
StatusOr<nlohmann::json> ParseJson(std::string_view text, size_t max_depth = kDefaultMaxJsonDepth);

// Typed field access that never throws: returns std::nullopt-like defaults.
// Gets an unsigned integer field; false if absent or not a non-negative integer.
bool GetUint(const nlohmann::json& obj, const char* key, uint64_t* out);
// Gets a signed integer field; false if absent or not an integer.
bool GetInt(const nlohmann::json& obj, const char* key, int64_t* out);
// Gets a string field; false if absent or not a string.
bool GetString(const nlohmann::json& obj, const char* key, std::string* out);

}  // namespace gvisor_exporter
