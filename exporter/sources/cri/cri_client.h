// A gRPC client of the CRI RuntimeService (containerd's CRI plugin).
//
// One channel for the exporter's lifetime: gRPC reconnects it by itself with
// exponential backoff (bounded here so containerd's return is noticed within
// seconds), and calls fail fast while it is down instead of waiting for it.
// Every call carries the caller's deadline; replies are size-limited.
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <memory>
#include <string>

#include "exporter/common/status.h"
#include "proto/cri_runtime.grpc.pb.h"
#include "proto/cri_runtime.pb.h"

namespace gvisor_exporter {

// containerd's CRI socket where Debian, Ubuntu and the upstream packages put
// it: the default of --cri.endpoint (exporter and doctor) and the path the
// doctor's hints name.
inline constexpr char kDefaultCriEndpoint[] = "unix:///run/containerd/containerd.sock";

struct CriClientOptions {
  // gRPC target: kDefaultCriEndpoint or another "unix://" path (a bare
  // absolute path is taken as a unix socket).
  std::string endpoint = kDefaultCriEndpoint;
  // ListPodSandbox with every label and annotation of ~110 pods is ~100 KB.
  int max_receive_bytes = 16 << 20;
  std::chrono::milliseconds min_reconnect_backoff{500};
  std::chrono::milliseconds max_reconnect_backoff{5000};
};

class CriClient {
 public:
  using Deadline = std::chrono::system_clock::time_point;

  explicit CriClient(CriClientOptions options);

  StatusOr<runtime::v1::VersionResponse> Version(Deadline deadline);
  StatusOr<runtime::v1::ListPodSandboxResponse> ListPodSandbox(Deadline deadline);
  StatusOr<runtime::v1::PodSandboxStatusResponse> PodSandboxStatus(const std::string& id,
                                                                   bool verbose, Deadline deadline);

 private:
  // NotFound when the endpoint is a unix socket that does not exist (no
  // containerd on this node, or it shut down cleanly): cheaper and clearer
  // than a connection attempt.
  Status CheckSocket() const;

  CriClientOptions options_;
  std::string socket_path_;  // "" for non-unix targets
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<runtime::v1::RuntimeService::Stub> stub_;
};

// "unix:///p", "unix:/p" or "/p" -> "/p"; "" for other targets.
std::string UnixSocketPath(const std::string& endpoint);

// Maps a gRPC status to ours (reason labels of gvisor_exporter_errors_total).
Status FromGrpcStatus(const grpc::Status& s, const std::string& call);

}  // namespace gvisor_exporter
