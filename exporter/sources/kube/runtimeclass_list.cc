#include "exporter/sources/kube/runtimeclass_list.h"

#include <algorithm>
#include <set>

#include "exporter/common/json_util.h"
#include "exporter/common/text.h"
#include "exporter/sources/kube/quantity.h"

namespace gvisor_exporter {

namespace {

// The list is flat: List > items > item > overhead > podFixed, plus
// metadata objects (managedFields go deeper, but stay well under this).
constexpr size_t kMaxDepth = 16;

bool Alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool DnsName(std::string_view s, size_t max, bool dots) {
  if (s.empty() || s.size() > max || !Alnum(s.front()) || !Alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [dots](char c) { return Alnum(c) || c == '-' || (dots && c == '.'); });
}

// One quantity of overhead.podFixed; absent leaves `out` unset.
template <typename T, typename Parse>
Status ReadQuantity(const nlohmann::json& pod_fixed, const char* key, const std::string& cls,
                    Parse parse, std::optional<T>* out) {
  auto it = pod_fixed.find(key);
  if (it == pod_fixed.end()) return Status::Ok();
  if (!it->is_string()) {
    return ParseError("RuntimeClass " + cls + ": overhead.podFixed." + key + " is not a string");
  }
  auto v = parse(it->template get_ref<const std::string&>());
  if (!v.ok()) return v.status().WithContext("RuntimeClass " + cls + ": overhead.podFixed." + key);
  *out = *v;
  return Status::Ok();
}

StatusOr<RuntimeClassInfo> ParseItem(const nlohmann::json& item, size_t index) {
  const std::string where = "items[" + std::to_string(index) + "]";
  if (!item.is_object()) return ParseError(where + " is not an object");
  auto md = item.find("metadata");
  RuntimeClassInfo c;
  if (md == item.end() || !md->is_object() || !GetString(*md, "name", &c.name)) {
    return ParseError(where + ": no metadata.name");
  }
  if (!IsValidDnsSubdomain(c.name))
    return InvalidError(where + ": bad name " + QuotedForMessage(c.name));
  if (!GetString(item, "handler", &c.handler)) {
    return ParseError("RuntimeClass " + c.name + ": no handler");
  }
  if (!IsValidDnsLabel(c.handler)) {
    return InvalidError("RuntimeClass " + c.name + ": bad handler " + QuotedForMessage(c.handler));
  }
  auto overhead = item.find("overhead");
  if (overhead == item.end() || overhead->is_null()) return c;
  if (!overhead->is_object()) return ParseError("RuntimeClass " + c.name + ": overhead");
  auto pod_fixed = overhead->find("podFixed");
  if (pod_fixed == overhead->end() || pod_fixed->is_null()) return c;
  if (!pod_fixed->is_object()) return ParseError("RuntimeClass " + c.name + ": podFixed");
  GVE_RETURN_IF_ERROR(
      ReadQuantity(*pod_fixed, "memory", c.name, ParseMemoryBytes, &c.overhead_memory_bytes));
  GVE_RETURN_IF_ERROR(
      ReadQuantity(*pod_fixed, "cpu", c.name, ParseCpuCores, &c.overhead_cpu_cores));
  return c;
}

}  // namespace

bool IsValidDnsSubdomain(std::string_view s) { return DnsName(s, 253, true); }
bool IsValidDnsLabel(std::string_view s) { return DnsName(s, 63, false); }

StatusOr<RuntimeClassList> ParseRuntimeClassList(std::string_view json) {
  if (json.size() > kMaxRuntimeClassListBytes) {
    return TooLargeError("RuntimeClassList larger than " +
                         std::to_string(kMaxRuntimeClassListBytes) + " bytes");
  }
  auto doc = ParseJson(json, kMaxDepth);
  if (!doc.ok()) return doc.status().WithContext("RuntimeClassList");
  std::string kind;
  // The kind tells a list from e.g. a Status object some proxy answered 200 with.
  if (!doc->is_object() || !GetString(*doc, "kind", &kind) || kind != "RuntimeClassList") {
    return ParseError("not a RuntimeClassList (kind " + QuotedForMessage(kind) + ")");
  }
  auto items = doc->find("items");
  if (items == doc->end() || items->is_null()) return RuntimeClassList{};  // Go's nil slice
  if (!items->is_array()) return ParseError("RuntimeClassList: items is not an array");
  if (items->size() > kMaxRuntimeClasses) {
    return TooLargeError("RuntimeClassList: more than " + std::to_string(kMaxRuntimeClasses) +
                         " items");
  }
  RuntimeClassList out;
  std::set<std::string> names;
  for (size_t i = 0; i < items->size(); ++i) {
    auto c = ParseItem((*items)[i], i);
    if (!c.ok()) {
      out.rejected.push_back(c.status());
    } else if (!names.insert(c->name).second) {
      out.rejected.push_back(InvalidError("RuntimeClass " + c->name + " listed twice"));
    } else {
      out.classes.push_back(std::move(c).value());
    }
  }
  std::sort(out.classes.begin(), out.classes.end(),
            [](const RuntimeClassInfo& a, const RuntimeClassInfo& b) { return a.name < b.name; });
  return out;
}

}  // namespace gvisor_exporter
