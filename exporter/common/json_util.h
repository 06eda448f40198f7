// Safe JSON parsing for untrusted input (state files, urpc replies, runsc CLI).
//
// nlohmann::json parses recursively, so a deeply nested document could
// exhaust the stack: the nesting depth is checked by a linear pre-scan first.
// Parse errors come back as Status, never as exceptions.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "exporter/common/status.h"

namespace gvisor_exporter {

inline constexpr size_t kDefaultMaxJsonDepth = 64;

// The string-literal half of a byte-at-a-time JSON scan, shared by
// JsonNestingDepth and the urpc stream scanner (JsonValueScanner): once the
// caller has seen an opening '"' and called Open(), Skip() consumes every
// byte up to and including the closing quote, honouring backslash escapes,
// so brackets inside strings never count as structure.
class JsonStringSkipper {
 public:
  void Open() { in_string_ = true; }
  // True when `c` belonged to an open string (and was consumed); false when
  // no string is open and the caller must look at `c` itself.
  bool Skip(char c) {
    if (!in_string_) return false;
    if (escaped_) {
      escaped_ = false;
    } else if (c == '\\') {
      escaped_ = true;
    } else if (c == '"') {
      in_string_ = false;
    }
    return true;
  }

 private:
  bool in_string_ = false;
  bool escaped_ = false;
};

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
