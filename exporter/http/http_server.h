// The exporter's HTTP endpoint (civetweb): the telemetry path renders the
// registered Collectables with prometheus-cpp's text serializer; `/` is a
// landing page, `/healthz` a liveness check, `/sandboxes` the current snapshot
// as an HTML table or JSON. Everything is rendered from the in-memory snapshot
// only, so a request never waits on a sandbox.
#pragma once

#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/model/snapshot_store.h"

class CivetServer;

namespace gvisor_exporter {

struct HttpOptions {
  // Prometheus style: ":9787" (all IPv4 addresses), "127.0.0.1:9787", "[::1]:9787".
  std::string listen_address = ":9787";
  std::string telemetry_path = "/metrics";
  int threads = 4;
};

// What Handle needs of a request (civetweb-independent, so tests and
// benchmarks can call Handle directly).
struct HttpRequest {
  std::string path;    // without the query string
  std::string query;   // after '?', undecoded; "" when absent
  std::string accept;  // the Accept header; "" when absent
};

// Returns {healthy, message} for /healthz.
using HealthCheck = std::function<std::pair<bool, std::string>()>;

class HttpServer {
 public:
  HttpServer(HttpOptions options,
             std::vector<std::shared_ptr<prometheus::Collectable>> collectables, HealthCheck health,
             const SnapshotStore* snapshots = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; fails with a clear message when the address is
  // invalid or in use.
  Status Start();
  // The bound port (useful with port 0 in tests); 0 before Start().
  int port() const;

  // Builds the response for a request (exposed for tests and benchmarks).
  // Returns the HTTP status code; fills content type and body.
  int Handle(const HttpRequest& request, std::string* content_type, std::string* body) const;

 private:
  class Handler;
  HttpOptions options_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  HealthCheck health_;
  const SnapshotStore* snapshots_;  // null: no /sandboxes page
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

// Translates a Prometheus-style listen address into civetweb's listening_ports
// syntax (":9787" -> "9787"); kInvalid on a malformed address.
StatusOr<std::string> CivetListeningPorts(const std::string& listen_address);

}  // namespace gvisor_exporter
