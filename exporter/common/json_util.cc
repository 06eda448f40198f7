#include "exporter/common/json_util.h"

namespace gvisor_exporter {

size_t JsonNestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0, max_depth = 0;
  JsonStringSkipper strings;
  for (char c : text) {
    if (strings.Skip(c)) continue;
    switch (c) {
      case '"':
        strings.Open();
        break;
      case '[':
      case '{':
        if (++depth > max_depth) {
          max_depth = depth;
          if (max_depth > limit) return limit + 1;
        }
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return max_depth;
}

StatusOr<nlohmann::json> ParseJson(std::string_view text, size_t max_depth) {
  // nlohmann stops at a NUL byte and would accept "{...}\0garbage": no JSON
  // text we read may contain one (it must be escaped inside strings).
  if (text.find('\0') != std::string_view::npos) return ParseError("NUL byte in JSON text");
  if (JsonNestingDepth(text, max_depth) > max_depth) {
    return TooLargeError("JSON nested deeper than " + std::to_string(max_depth));
  }
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return ParseError("malformed JSON (" + std::to_string(text.size()) + " bytes)");
  }
  return j;
}

bool GetUint(const nlohmann::json& obj, const char* key, uint64_t* out) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  if (it->is_number_unsigned()) {
    *out = it->get<uint64_t>();
    return true;
  }
  if (it->is_number_integer() && it->get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(it->get<int64_t>());
    return true;
  }
  return false;
}

bool GetInt(const nlohmann::json& obj, const char* key, int64_t* out) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return false;
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return false;
  }
  *out = it->get<int64_t>();
  return true;
}

bool GetString(const nlohmann::json& obj, const char* key, std::string* out) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return false;
  *out = it->get<std::string>();
  return true;
}

}  // namespace gvisor_exporter
