// The exporter's HTTP endpoint (civetweb): the telemetry path renders the
// registered Collectables with prometheus-cpp's text serializer; `/` is a
// landing page, `/healthz` a liveness check. Metrics are rendered from the
// in-memory snapshot only, so a request never waits on a sandbox.
#pragma once

#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exporter/common/status.h"

class CivetServer;

namespace gvisor_exporter {

struct HttpOptions {
  // Prometheus style: ":9787" (all IPv4 addresses), "127.0.0.1:9787", "[::1]:9787".
  std::string listen_address = ":9787";
  std::string telemetry_path = "/metrics";
  int threads = 4;
};

// Returns {healthy, message} for /healthz.
using HealthCheck = std::function<std::pair<bool, std::string>()>;

class HttpServer {
 public:
  HttpServer(HttpOptions options,
             std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
             HealthCheck health);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; fails with a clear message when the address is
  // invalid or in use.
  Status Start();
  // The bound port (useful with port 0 in tests); 0 before Start().
  int port() const;

  // Builds the response body for a path (exposed for tests and benchmarks).
  // Returns the HTTP status code; fills content type and body.
  int Handle(const std::string& path, std::string* content_type, std::string* body) const;

 private:
  class Handler;
  HttpOptions options_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  HealthCheck health_;
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

// Translates a Prometheus-style listen address into civetweb's listening_ports
// syntax (":9787" -> "9787"); kInvalid on a malformed address.
StatusOr<std::string> CivetListeningPorts(const std::string& listen_address);

}  // namespace gvisor_exporter
