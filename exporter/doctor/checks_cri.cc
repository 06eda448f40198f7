// The CRI endpoint (containerd's CRI plugin) and the handlers its pods use.
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>

#include "exporter/doctor/checks.h"
#include "proto/cri_runtime.grpc.pb.h"

namespace gvisor_exporter::doctor {

namespace {

std::string SocketPath(const std::string& endpoint) {
  if (endpoint.rfind("unix://", 0) == 0) return endpoint.substr(7);
  if (endpoint.rfind("unix:", 0) == 0) return endpoint.substr(5);
  if (endpoint.rfind('/', 0) == 0) return endpoint;
  return "";
}

std::string GrpcError(const grpc::Status& s) {
  // The peer's message is input: bounded.
  return std::to_string(static_cast<int>(s.error_code())) + " " + s.error_message().substr(0, 200);
}

}  // namespace

CheckResult CheckCriEndpoint(const std::string& endpoint, std::chrono::milliseconds timeout,
                             CriInfo* info) {
  CheckResult r{"cri endpoint"};
  r.data["endpoint"] = endpoint;
  if (endpoint.empty()) {
    r.detail = "disabled (--cri.endpoint=\"\")";
    return r;
  }
  const std::string hint =
      "pass containerd's socket with --cri.endpoint=unix:///run/containerd/containerd.sock; the "
      "exporter works without CRI, minus pod/RuntimeClass mapping";
  const std::string path = SocketPath(endpoint);
  struct stat st {};
  if (!path.empty() && (::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))) {
    r.status = CheckStatus::kWarn;
    r.detail = path + (::stat(path.c_str(), &st) != 0 ? ": " + std::string(strerror(errno))
                                                      : " is not a socket");
    r.hint = hint;
    return r;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 << 20);
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  auto channel = grpc::CreateCustomChannel(path.empty() ? endpoint : "unix://" + path,
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = runtime::v1::RuntimeService::NewStub(channel);
  const auto deadline = std::chrono::system_clock::now() + timeout;
  runtime::v1::VersionResponse version;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    runtime::v1::VersionRequest req;
    grpc::Status s = stub->Version(&ctx, req, &version);
    if (!s.ok()) {
      r.status = CheckStatus::kWarn;
      r.detail = "Version on " + endpoint + " failed: " + GrpcError(s);
      r.hint = hint;
      return r;
    }
  }
  info->up = true;
  info->runtime_name = version.runtime_name();
  info->runtime_version = version.runtime_version();
  info->api_version = version.runtime_api_version();
  r.data["runtime_name"] = info->runtime_name;
  r.data["runtime_version"] = info->runtime_version;
  r.data["runtime_api_version"] = info->api_version;
  runtime::v1::ListPodSandboxResponse pods;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline);
    runtime::v1::ListPodSandboxRequest req;
    grpc::Status s = stub->ListPodSandbox(&ctx, req, &pods);
    if (!s.ok()) {
      r.status = CheckStatus::kWarn;
      r.detail = info->runtime_name + " " + info->runtime_version + " answers Version but " +
                 "ListPodSandbox failed: " + GrpcError(s);
      r.hint = hint;
      return r;
    }
  }
  for (const runtime::v1::PodSandbox& p : pods.items()) {
    info->pods.push_back({p.id(), p.metadata().name(), p.metadata().namespace_(),
                          p.runtime_handler(),
                          p.state() == runtime::v1::PodSandboxState::SANDBOX_READY});
  }
  r.data["pods"] = info->pods.size();
  r.detail = info->runtime_name + " " + info->runtime_version + " (CRI " + info->api_version +
             ") at " + endpoint + ", " + std::to_string(info->pods.size()) + " pod(s)";
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
    ++by_handler[p.handler];
    // "" is the runtime's default handler: always defined.
    if (config_handlers != nullptr && !p.handler.empty() &&
        config_handlers->count(p.handler) == 0) {
      unknown.insert(p.handler);
    }
    const bool gvisor = gvisor_handlers.count(p.handler) != 0;
    if (gvisor && p.ready && sandbox_ids.count(p.id) == 0) unseen.insert(p.id.substr(0, 12));
    pods.push_back({{"id", p.id},
                    {"name", p.name},
                    {"namespace", p.pod_namespace},
                    {"handler", p.handler},
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
