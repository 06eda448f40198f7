#include "exporter/sources/cri/cri_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/stat.h>

#include <cerrno>

namespace gvisor_exporter {

std::string UnixSocketPath(const std::string& endpoint) {
  if (endpoint.rfind("unix://", 0) == 0) return endpoint.substr(7);
  if (endpoint.rfind("unix:", 0) == 0) return endpoint.substr(5);
  if (endpoint.rfind('/', 0) == 0) return endpoint;
  return "";
}

Status FromGrpcStatus(const grpc::Status& s, const std::string& call) {
  // The runtime's message is input: bounded before it reaches a log line.
  std::string msg = call + ": " + s.error_message().substr(0, 256);
  switch (s.error_code()) {
    case grpc::StatusCode::OK:
      return Status::Ok();
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return TimeoutError(std::move(msg));
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::CANCELLED:
      return UnavailableError(std::move(msg));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return TooLargeError(std::move(msg));
    case grpc::StatusCode::NOT_FOUND:
      return NotFoundError(std::move(msg));
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return PermissionError(std::move(msg));
    default:
      return RemoteError(std::move(msg));
  }
}

CriClient::CriClient(CriClientOptions options) : options_(std::move(options)) {
  socket_path_ = UnixSocketPath(options_.endpoint);
  const std::string target = socket_path_.empty() ? options_.endpoint : "unix://" + socket_path_;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_receive_bytes);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.min_reconnect_backoff.count()));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.min_reconnect_backoff.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.max_reconnect_backoff.count()));
  // A node agent talks to one local runtime; no proxies, no DNS.
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  stub_ = runtime::v1::RuntimeService::NewStub(channel_);
}

Status CriClient::CheckSocket() const {
  if (socket_path_.empty()) return Status::Ok();
  struct stat st;
  if (stat(socket_path_.c_str(), &st) != 0) return ErrnoError(errno, socket_path_);
  if (!S_ISSOCK(st.st_mode)) return InvalidError(socket_path_ + " is not a socket");
  return Status::Ok();
}

namespace {

// One call: the deadline on the context, fail fast while disconnected
// (wait_for_ready off, the gRPC default, stated here because it matters).
template <typename Req, typename Resp, typename Method>
StatusOr<Resp> Call(const char* name, const Req& req, CriClient::Deadline deadline, Method method) {
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  ctx.set_wait_for_ready(false);
  Resp resp;
  grpc::Status s = method(&ctx, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s, name);
  return resp;
}

}  // namespace

StatusOr<runtime::v1::VersionResponse> CriClient::Version(Deadline deadline) {
  GVE_RETURN_IF_ERROR(CheckSocket());
  runtime::v1::VersionRequest req;
  req.set_version("v1");
  return Call<runtime::v1::VersionRequest, runtime::v1::VersionResponse>(
      "Version", req, deadline,
      [this](auto* ctx, const auto& r, auto* out) { return stub_->Version(ctx, r, out); });
}

StatusOr<runtime::v1::ListPodSandboxResponse> CriClient::ListPodSandbox(Deadline deadline) {
  GVE_RETURN_IF_ERROR(CheckSocket());
  return Call<runtime::v1::ListPodSandboxRequest, runtime::v1::ListPodSandboxResponse>(
      "ListPodSandbox", runtime::v1::ListPodSandboxRequest(), deadline,
      [this](auto* ctx, const auto& r, auto* out) { return stub_->ListPodSandbox(ctx, r, out); });
}

StatusOr<runtime::v1::PodSandboxStatusResponse> CriClient::PodSandboxStatus(const std::string& id,
                                                                            bool verbose,
                                                                            Deadline deadline) {
  GVE_RETURN_IF_ERROR(CheckSocket());
  runtime::v1::PodSandboxStatusRequest req;
  req.set_pod_sandbox_id(id);
  req.set_verbose(verbose);
  return Call<runtime::v1::PodSandboxStatusRequest, runtime::v1::PodSandboxStatusResponse>(
      "PodSandboxStatus", req, deadline,
      [this](auto* ctx, const auto& r, auto* out) { return stub_->PodSandboxStatus(ctx, r, out); });
}

}  // namespace gvisor_exporter
