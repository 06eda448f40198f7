// The CRI endpoint (containerd's CRI plugin) and the handlers its pods use.
#include <algorithm>
#include <map>

#include "exporter/doctor/checks.h"
#include "exporter/sources/cri/cri_client.h"

namespace gvisor_exporter::doctor {

CheckResult CheckCriEndpoint(const std::string& endpoint, std::chrono::milliseconds timeout,
                             CriInfo* info) {
  CheckResult r{"cri endpoint"};
  r.data["endpoint"] = endpoint;
  if (endpoint.empty()) {
    r.detail = "disabled (--cri.endpoint=\"\")";
    return r;
  }
  const auto warn = [&](const std::string& detail) {
    r.status = CheckStatus::kWarn;
    r.detail = detail;
    r.hint = std::string("pass containerd's socket with --cri.endpoint=") + kDefaultCriEndpoint +
             "; the exporter works without CRI, minus pod/RuntimeClass mapping";
    return r;
  };
  // The exporter's client: what works here works for the exporter. A missing
  // or non-socket path fails before any connection attempt, with the path.
  CriClient client(CriClientOptions{.endpoint = endpoint});
  const auto deadline = std::chrono::system_clock::now() + timeout;
  StatusOr<runtime::v1::VersionResponse> version = client.Version(deadline);
  if (!version.ok()) return warn(endpoint + ": " + version.status().ToString());
  info->up = true;
  info->runtime_name = version->runtime_name();
  info->runtime_version = version->runtime_version();
  info->api_version = version->runtime_api_version();
  r.data["runtime_name"] = info->runtime_name;
  r.data["runtime_version"] = info->runtime_version;
  r.data["runtime_api_version"] = info->api_version;
  const std::string runtime = info->runtime_name + " " + info->runtime_version;
  StatusOr<runtime::v1::ListPodSandboxResponse> pods = client.ListPodSandbox(deadline);
  if (!pods.ok()) return warn(runtime + " answers Version but " + pods.status().ToString());
  std::vector<std::string> invalid;
  for (const runtime::v1::PodSandbox& p : pods->items()) {
    StatusOr<CriPod> pod = ValidatePod(p, {});
    if (pod.ok()) {
      info->pods.push_back(std::move(pod).value());
    } else {
      invalid.push_back(pod.status().message());
    }
  }
  r.data["pods"] = info->pods.size();
  r.data["invalid_pods"] = invalid;
  r.detail = runtime + " (CRI " + info->api_version + ") at " + endpoint + ", " +
             std::to_string(info->pods.size()) + " pod(s)";
  if (!invalid.empty()) {
    r.status = CheckStatus::kWarn;
    r.detail += "; " + std::to_string(invalid.size()) +
                " pod(s) the exporter skips as invalid, e.g. " + invalid.front();
    r.hint =
        "pods with such ids or names get no pod metrics (gvisor_exporter_errors_total counts "
        "them under source \"cri\")";
  }
  return r;
}

CheckResult CheckCriHandlers(const CriInfo& cri, const std::set<std::string>* config_handlers,
                             const std::set<std::string>& gvisor_handlers,
                             const std::vector<LiveSandbox>& sandboxes) {
  CheckResult r{"cri handlers"};
  if (!cri.up) {
    r.detail = "CRI not reachable (skipped)";
    return r;
  }
  std::map<std::string, size_t> by_handler;
  std::set<std::string> unknown, unseen;
  std::set<std::string> sandbox_ids;
  for (const LiveSandbox& s : sandboxes) sandbox_ids.insert(s.info.id);
  nlohmann::json pods = nlohmann::json::array();
  for (const CriPod& p : cri.pods) {
    ++by_handler[p.runtime_handler];
    // "" is the runtime's default handler: always defined.
    if (config_handlers != nullptr && !p.runtime_handler.empty() &&
        config_handlers->count(p.runtime_handler) == 0) {
      unknown.insert(p.runtime_handler);
    }
    const bool gvisor = gvisor_handlers.count(p.runtime_handler) != 0;
    if (gvisor && p.ready && sandbox_ids.count(p.id) == 0) unseen.insert(p.id.substr(0, 12));
    pods.push_back({{"id", p.id},
                    {"name", p.name},
                    {"namespace", p.pod_namespace},
                    {"handler", p.runtime_handler},
                    {"ready", p.ready},
                    {"gvisor", gvisor}});
  }
  r.data["handlers"] = by_handler;
  r.data["pods"] = pods;
  r.data["unknown_handlers"] = unknown;
  r.data["gvisor_pods_without_sandbox"] = unseen;
  std::string list;
  for (const auto& [h, n] : by_handler) {
    list += (list.empty() ? "" : ", ") + (h.empty() ? std::string("(default)") : h) + ": " +
            std::to_string(n);
  }
  r.detail = cri.pods.empty() ? "no pods" : "pods by handler: " + list;
  if (!unknown.empty()) {
    r.status = CheckStatus::kWarn;
    r.detail += "; handler(s) not in the containerd config: " + nlohmann::json(unknown).dump();
    r.hint =
        "the config read is not the one containerd runs (pass --containerd.config), or it "
        "changed without a containerd restart";
  } else if (!unseen.empty()) {
    r.status = CheckStatus::kWarn;
    r.detail += "; gVisor pod(s) without a sandbox under the scanned roots: " +
                nlohmann::json(unseen).dump();
    r.hint = "pass the handler's runsc root with --runsc.root-parent / --runsc.root";
  }
  return r;
}

}  // namespace gvisor_exporter::doctor
