#include "exporter/sources/cri/verbose_info.h"

#include "exporter/common/json_util.h"

namespace gvisor_exporter {

namespace {

// Paths and type names are short; a longer value is not one.
constexpr size_t kMaxInfoFieldBytes = 4096;

std::string BoundedString(const nlohmann::json& obj, const char* key) {
  std::string v;
  if (!obj.is_object() || !GetString(obj, key, &v) || v.size() > kMaxInfoFieldBytes) return "";
  return v;
}

}  // namespace

StatusOr<VerboseInfo> ParseVerboseInfo(std::string_view json) {
  if (json.size() > kMaxVerboseInfoBytes) {
    return TooLargeError("verbose info of " + std::to_string(json.size()) + " bytes");
  }
  auto doc = ParseJson(json);
  if (!doc.ok()) return doc.status().WithContext("verbose info");
  if (!doc->is_object()) return ParseError("verbose info is not a JSON object");
  VerboseInfo out;
  int64_t pid = 0;
  if (GetInt(*doc, "pid", &pid) && pid > 0) out.pid = pid;
  out.runtime_type = BoundedString(*doc, "runtimeType");
  auto opts = doc->find("runtimeOptions");
  if (opts != doc->end()) {
    out.runtime_root = BoundedString(*opts, "root");
    out.runtime_binary = BoundedString(*opts, "binary_name");
  }
  return out;
}

}  // namespace gvisor_exporter
