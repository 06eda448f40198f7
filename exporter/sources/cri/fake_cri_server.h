// Test-only: an in-process CRI RuntimeService on a unix socket, serving
// recorded replies, with knobs for the faults the source must survive (a
// slow runtime, a runtime that goes away and comes back).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "proto/cri_runtime.grpc.pb.h"

namespace gvisor_exporter::cri_testing {

class FakeRuntime final : public runtime::v1::RuntimeService::Service {
 public:
  grpc::Status Version(grpc::ServerContext*, const runtime::v1::VersionRequest*,
                       runtime::v1::VersionResponse* out) override {
    ++version_calls;
    out->set_version("0.1.0");
    out->set_runtime_name("containerd");
    out->set_runtime_version("1.6.20~ds1");
    out->set_runtime_api_version("v1");
    return grpc::Status::OK;
  }
  grpc::Status ListPodSandbox(grpc::ServerContext* ctx, const runtime::v1::ListPodSandboxRequest*,
                              runtime::v1::ListPodSandboxResponse* out) override {
    ++list_calls;
    Delay(ctx);
    std::lock_guard<std::mutex> lock(mu);
    *out = list;
    return grpc::Status::OK;
  }
  grpc::Status PodSandboxStatus(grpc::ServerContext* ctx,
                                const runtime::v1::PodSandboxStatusRequest* req,
                                runtime::v1::PodSandboxStatusResponse* out) override {
    ++status_calls;
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& item : list.items()) {
      if (item.id() != req->pod_sandbox_id()) continue;
      out->mutable_status()->set_id(item.id());
      out->mutable_status()->set_runtime_handler(item.runtime_handler());
      if (req->verbose()) (*out->mutable_info())["info"] = info;
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "an error occurred when try to find sandbox");
  }

  std::mutex mu;
  runtime::v1::ListPodSandboxResponse list;                                  // guarded by mu
  std::string info = R"({"pid":42,"runtimeType":"io.containerd.runc.v2"})";  // guarded by mu
  std::atomic<int> delay_ms{0};  // ListPodSandbox sleeps this long (or until cancelled)
  std::atomic<int> version_calls{0}, list_calls{0}, status_calls{0};

 private:
  void Delay(grpc::ServerContext* ctx) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
    while (std::chrono::steady_clock::now() < until && !ctx->IsCancelled())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
};

// A gRPC server for `service` on unix socket `path`, stopped on destruction.
class FakeCriServer {
 public:
  FakeCriServer(const std::string& path, FakeRuntime* service) {
    grpc::ServerBuilder b;
    b.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
    b.RegisterService(service);
    server_ = b.BuildAndStart();
  }
  ~FakeCriServer() { Stop(); }
  bool ok() const { return server_ != nullptr; }
  void Stop() {
    if (!server_) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    server_->Wait();
    server_.reset();
  }

 private:
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace gvisor_exporter::cri_testing
