#include "exporter/views/sandboxes_view.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

namespace gvisor_exporter {

std::vector<SandboxRow> BuildSandboxRows(const NodeSnapshot& snap) {
  std::vector<SandboxRow> rows;
  rows.reserve(snap.sandboxes.size());
  for (const SandboxSnapshot& s : snap.sandboxes) {
    SandboxRow r;
    r.pod = s.info.pod_name;
    r.pod_namespace = s.info.pod_namespace;
    r.id = s.info.id;
    r.root = s.info.root;
    // From the CRI mapping; unknown (null, not "") when CRI is off or down.
    if (!s.runtime_class.empty() || !s.runtime_handler.empty()) r.runtime_class = s.runtime_class;
    r.platform = s.platform.platform;
    r.network = s.platform.network;
    if (s.usage.memory) r.memory_total_bytes = s.usage.memory->total;
    // Same definition as gvisor_sandbox_host_memory_pss_bytes summed over roles
    // and gvisor_sandbox_memory_overhead_bytes: no processes means host
    // collection is off or failed, which is "unknown", not zero.
    if (!s.processes.empty()) {
      uint64_t pss = 0;
      for (const HostProcess& p : s.processes) pss += p.pss_bytes;
      r.host_pss_bytes = pss;
      if (r.memory_total_bytes) {
        r.memory_overhead_bytes =
            static_cast<int64_t>(pss) - static_cast<int64_t>(*r.memory_total_bytes);
      }
    }
    if (s.cgroup) r.cgroup_memory_bytes = s.cgroup->memory_usage_bytes;
    r.stats_path = StatsPathName(s.usage.path);
    r.syscall_collection = "off";
    if (s.syscalls) {
      // "attach active", "listen active", "attach foreign" (another consumer's
      // session), "attach error"; drops say the counts undercount.
      r.syscall_collection = s.syscalls->mode + " " + TraceSessionStateName(s.syscalls->state);
      r.syscall_events_dropped = s.syscalls->dropped_events;
    }
    for (const ContainerInfo& c : s.info.containers) {
      // The pause container is the sandbox itself (its id is the sandbox id);
      // an app container without a CRI name is shown by its id so none hides.
      if (c.is_pause) continue;
      r.containers.push_back(c.name.empty() ? c.id : c.name);
    }
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(), [](const SandboxRow& a, const SandboxRow& b) {
    return std::tie(a.pod_namespace, a.pod, a.id, a.root) <
           std::tie(b.pod_namespace, b.pod, b.id, b.root);
  });
  return rows;
}

namespace {

template <typename T>
nlohmann::ordered_json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

std::string RenderSandboxesJson(const NodeSnapshot* snap, double now_seconds) {
  // ordered_json: fields in the order of the HTML columns, easier to read.
  using Json = nlohmann::ordered_json;
  Json doc = Json::object();
  doc["sandboxes"] = Json::array();
  doc["snapshot"] = nullptr;
  if (snap) {
    for (const SandboxRow& r : BuildSandboxRows(*snap)) {
      Json j = Json::object();
      j["pod"] = r.pod;
      j["namespace"] = r.pod_namespace;
      j["sandbox_id"] = r.id;
      j["root"] = r.root;
      j["runtime_class"] = OrNull(r.runtime_class);
      j["platform"] = r.platform;
      j["network"] = r.network;
      j["memory_total_bytes"] = OrNull(r.memory_total_bytes);
      j["host_memory_pss_bytes"] = OrNull(r.host_pss_bytes);
      j["memory_overhead_bytes"] = OrNull(r.memory_overhead_bytes);
      j["cgroup_memory_usage_bytes"] = OrNull(r.cgroup_memory_bytes);
      j["stats_path"] = r.stats_path;
      j["syscall_collection"] = r.syscall_collection;
      j["syscall_events_dropped"] = OrNull(r.syscall_events_dropped);
      j["containers"] = r.containers;
      j["last_poll_timestamp_seconds"] = snap->timestamp_seconds;
      doc["sandboxes"].push_back(std::move(j));
    }
    doc["snapshot"] = {{"timestamp_seconds", snap->timestamp_seconds},
                       {"age_seconds", std::max(0.0, now_seconds - snap->timestamp_seconds)},
                       {"poll_count", snap->poll_count},
                       {"poll_duration_seconds", snap->poll_duration_seconds},
                       {"sandbox_count", snap->sandboxes.size()}};
  }
  // Strings are untrusted bytes: `replace` turns invalid UTF-8 into U+FFFD
  // where the default handler would throw.
  return doc.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace gvisor_exporter
