#include "exporter/sources/control/usage_parser.h"

#include <set>
#include <string>
#include <utility>

#include "exporter/common/ids.h"
#include "exporter/common/json_util.h"

namespace gvisor_exporter {
namespace {

// Events per `runsc events -stats` output: one per container at most.
constexpr size_t kMaxEventLines = kMaxContainersPerSandbox;

// Reads obj[key] when present: a non-negative integer, else an error.
// Absent keeps *out untouched and succeeds (omitempty zero / unknown).
Status ReadCounter(const nlohmann::json& obj, const char* key, uint64_t* out) {
  if (!obj.is_object() || !obj.contains(key)) return Status::Ok();
  if (!GetUint(obj, key, out)) {
    return ParseError(std::string("\"") + key + "\" is not a non-negative integer");
  }
  return Status::Ok();
}

// obj[key] if it is an object, nullptr when absent or null; error otherwise.
StatusOr<const nlohmann::json*> Child(const nlohmann::json* obj, const char* key) {
  if (obj == nullptr) return static_cast<const nlohmann::json*>(nullptr);
  auto it = obj->find(key);
  if (it == obj->end() || it->is_null()) return static_cast<const nlohmann::json*>(nullptr);
  if (!it->is_object()) return ParseError(std::string("\"") + key + "\" is not an object");
  return &*it;
}

// Follows a path of object keys; nullptr when any step is absent.
StatusOr<const nlohmann::json*> Descend(const nlohmann::json& root,
                                        std::initializer_list<const char*> path) {
  const nlohmann::json* cur = &root;
  for (const char* key : path) {
    StatusOr<const nlohmann::json*> next = Child(cur, key);
    if (!next.ok()) return next;
    cur = *next;
  }
  return cur;
}

// Reads parent[key] as a counter when `parent` is present: omitted means 0.
Status ReadOptionalCounter(const nlohmann::json* parent, const char* key,
                           std::optional<uint64_t>* out) {
  if (parent == nullptr) return Status::Ok();
  uint64_t v = 0;
  GVE_RETURN_IF_ERROR(ReadCounter(*parent, key, &v));
  *out = v;
  return Status::Ok();
}

StatusOr<std::map<std::string, uint64_t>> ParseContainerUsage(const nlohmann::json& usage) {
  std::map<std::string, uint64_t> out;
  if (usage.is_null()) return out;  // Go's nil map
  if (!usage.is_object()) return ParseError("\"containerUsage\" is not an object");
  if (usage.size() > kMaxContainersPerSandbox) return TooLargeError("too many containers");
  for (const auto& [id, value] : usage.items()) {
    if (!IsValidId(id)) continue;  // ids become label values: drop odd ones
    uint64_t ns = 0;
    GVE_RETURN_IF_ERROR(ReadCounter(usage, id.c_str(), &ns));
    out.emplace(id, ns);
  }
  return out;
}

// Linux interface names: 1..15 bytes, no '/', whitespace or control
// characters. Names become label values; anything else is skipped.
bool PlausibleInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  for (char c : name) {
    if (c <= ' ' || c > '~' || c == '/' || c == '"' || c == '\\') return false;
  }
  return true;
}

StatusOr<std::vector<NetworkInterface>> ParseNetworkInterfaces(const nlohmann::json& list) {
  if (!list.is_array()) return ParseError("\"network_interfaces\" is not an array");
  if (list.size() > 64 * kMaxNetworkInterfaces) return TooLargeError("too many network interfaces");
  std::vector<NetworkInterface> out;
  std::set<std::string> names;  // a repeated name would make duplicate series: first one wins
  for (const auto& item : list) {
    if (!item.is_object()) return ParseError("a network interface is not an object");
    NetworkInterface n;
    if (!GetString(item, "Name", &n.name) || !PlausibleInterfaceName(n.name)) continue;
    const std::pair<const char*, uint64_t*> fields[] = {
        {"RxBytes", &n.rx_bytes},     {"RxPackets", &n.rx_packets}, {"RxErrors", &n.rx_errors},
        {"RxDropped", &n.rx_dropped}, {"TxBytes", &n.tx_bytes},     {"TxPackets", &n.tx_packets},
        {"TxErrors", &n.tx_errors},   {"TxDropped", &n.tx_dropped}};
    for (const auto& [key, field] : fields) GVE_RETURN_IF_ERROR(ReadCounter(item, key, field));
    if (out.size() < kMaxNetworkInterfaces && names.insert(n.name).second) {
      out.push_back(std::move(n));
    }
  }
  return out;
}

StatusOr<nlohmann::json> ParseText(std::string_view text, const char* what) {
  if (text.size() > kMaxUsageTextBytes) return TooLargeError(std::string(what) + " too large");
  // nlohmann would stop at a NUL as if the input ended there.
  if (text.find('\0') != std::string_view::npos)
    return ParseError(std::string(what) + ": NUL byte");
  StatusOr<nlohmann::json> j = ParseJson(text);
  if (!j.ok()) return j.status().WithContext(what);
  return j;
}

}  // namespace

StatusOr<EventStats> ParseStatsEvent(const nlohmann::json& event) {
  if (!event.is_object()) return ParseError("event is not an object");
  EventStats stats;
  std::string type;
  if (event.contains("type") && (!GetString(event, "type", &type) || type != "stats")) {
    return ParseError("not a stats event");
  }
  if (event.contains("id") && !GetString(event, "id", &stats.id)) {
    return ParseError("event \"id\" is not a string");
  }
  if (!stats.id.empty() && !IsValidId(stats.id)) return InvalidError("event has an invalid id");
  StatusOr<const nlohmann::json*> data = Child(&event, "data");
  if (!data.ok()) return data.status();
  if (*data == nullptr) return ParseError("event has no \"data\"");
  StatusOr<const nlohmann::json*> mem = Descend(**data, {"memory", "usage"});
  StatusOr<const nlohmann::json*> pids = Descend(**data, {"pids"});
  StatusOr<const nlohmann::json*> cpu = Descend(**data, {"cpu", "usage"});
  for (const auto* part : {&mem, &pids, &cpu}) {
    if (!part->ok()) return part->status();
  }
  GVE_RETURN_IF_ERROR(ReadOptionalCounter(*mem, "usage", &stats.memory_usage_bytes));
  GVE_RETURN_IF_ERROR(ReadOptionalCounter(*pids, "current", &stats.pids));
  GVE_RETURN_IF_ERROR(ReadOptionalCounter(*cpu, "total", &stats.cpu_total));
  auto net = (*data)->find("network_interfaces");
  if (net != (*data)->end() && !net->is_null()) {
    StatusOr<std::vector<NetworkInterface>> interfaces = ParseNetworkInterfaces(*net);
    if (!interfaces.ok()) return interfaces.status();
    stats.network = std::move(*interfaces);
  }
  return stats;
}

StatusOr<EventStats> ParseEventResult(const nlohmann::json& result) {
  if (!result.is_object()) return ParseError("Event result is not an object");
  auto event = result.find("event");
  if (event == result.end()) return ParseError("Event result has no \"event\"");
  StatusOr<EventStats> stats = ParseStatsEvent(*event);
  if (!stats.ok()) return stats;
  auto usage = result.find("containerUsage");
  if (usage != result.end()) {
    StatusOr<std::map<std::string, uint64_t>> cpu = ParseContainerUsage(*usage);
    if (!cpu.ok()) return cpu.status();
    stats->container_cpu_ns = std::move(*cpu);
  }
  return stats;
}

StatusOr<SandboxMemory> ParseMemoryUsage(const nlohmann::json& usage, bool full) {
  if (!usage.is_object()) return ParseError("memory usage is not an object");
  if (!usage.contains("Total")) return ParseError("memory usage has no \"Total\"");
  SandboxMemory m;
  m.full = full;
  const std::pair<const char*, uint64_t*> fields[] = {
      {"Unknown", &m.unknown},      {"System", &m.system}, {"Anonymous", &m.anonymous},
      {"PageCache", &m.page_cache}, {"Mapped", &m.mapped}, {"Tmpfs", &m.tmpfs},
      {"Ramdiskfs", &m.ramdiskfs},  {"Total", &m.total},
  };
  for (const auto& [key, out] : fields) GVE_RETURN_IF_ERROR(ReadCounter(usage, key, out));
  return m;
}

StatusOr<SandboxMemory> ParseUsageOutput(std::string_view text, bool full) {
  StatusOr<nlohmann::json> j = ParseText(text, "runsc usage output");
  if (!j.ok()) return j.status();
  return ParseMemoryUsage(*j, full);
}

StatusOr<std::vector<EventStats>> ParseEventsStatsOutput(std::string_view text) {
  if (text.size() > kMaxUsageTextBytes) return TooLargeError("runsc events output too large");
  std::vector<EventStats> events;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (events.size() == kMaxEventLines) return TooLargeError("too many events");
    StatusOr<nlohmann::json> j = ParseText(line, "runsc events line");
    if (!j.ok()) return j.status();
    StatusOr<EventStats> e = ParseStatsEvent(*j);
    if (!e.ok()) return e.status();
    events.push_back(std::move(*e));
  }
  if (events.empty()) return ParseError("runsc events printed no event");
  return events;
}

}  // namespace gvisor_exporter
