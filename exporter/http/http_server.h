// The exporter's HTTP endpoint (civetweb): the telemetry path serves the
// registered Expositions (the snapshot collector's pre-rendered text and its
// per-scrape health; exposition_body.h); `/` is a landing page,
// `/healthz` a liveness check, `/sandboxes` the current snapshot as an HTML
// table or JSON. Everything is rendered from the in-memory snapshot only, so a
// request never waits on a sandbox.
//
// A response body is a list of shared pieces written one after the other, so
// the multi-megabyte snapshot text is sent from its cache, never copied per
// request. The telemetry path is gzip-compressed when the client accepts it
// (Prometheus always does), from the snapshot's cached compressed text
// (see exposition_body.h).
//
// With a web config (`--web.config.file`, exporter-toolkit format) the port
// speaks TLS only (tls_context.h) and every path but /healthz needs basic auth
// when users are configured (basic_auth.h); /healthz stays open for kubelet
// probes, which cannot send credentials (TLS still applies to it).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/collectors/exposition_body.h"
#include "exporter/common/status.h"
#include "exporter/http/web_config.h"
#include "exporter/model/snapshot_store.h"

class CivetServer;

namespace gvisor_exporter {

class BasicAuth;
class TlsContext;

// The path served without basic auth (kubelet probes).
inline constexpr char kUnauthenticatedPath[] = "/healthz";

struct HttpOptions {
  // Prometheus style: ":9787" (all IPv4 addresses), "127.0.0.1:9787", "[::1]:9787".
  std::string listen_address = ":9787";
  std::string telemetry_path = "/metrics";
  int threads = 4;
  // TLS, basic auth and extra headers; the default is plain HTTP, no auth.
  WebConfig web{};
};

// What Respond needs of a request (civetweb-independent, so tests and
// benchmarks can call Respond or Handle directly).
struct HttpRequest {
  std::string path;    // without the query string
  std::string query;   // after '?', undecoded; "" when absent
  std::string accept;  // the Accept header; "" when absent
  // The Accept-Encoding header; "" when absent. Has a default member
  // initializer so that {path, query, accept} stays a complete initializer.
  std::string accept_encoding{};
};

struct HttpResponse {
  int code = 200;
  std::string content_type;
  std::string content_encoding;  // "" (identity) or "gzip"
  BodyPieces body;               // written in order; shared, not copied
  // Bytes of the body (Content-Length).
  size_t size() const;
  // The body as one string (a copy; for tests and tools).
  std::string JoinedBody() const;
};

// Whether an Accept-Encoding header value accepts gzip (RFC 9110 12.5.3):
// comma-separated codings, case-insensitive, each with optional parameters;
// "gzip" (or "x-gzip") listed with q > 0 (and never with q=0), or not listed
// and "*" with q > 0. q=0, or a malformed q, means not acceptable.
bool AcceptsGzip(std::string_view accept_encoding);

// Returns {healthy, message} for /healthz.
using HealthCheck = std::function<std::pair<bool, std::string>()>;

class HttpServer {
 public:
  HttpServer(HttpOptions options, std::vector<std::shared_ptr<const Exposition>> expositions,
             HealthCheck health, const SnapshotStore* snapshots = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; fails with a clear message when the address is
  // invalid or in use, or when the web config's certificate, key, client CA
  // or a password hash is unusable.
  Status Start();
  // The bound port (useful with port 0 in tests); 0 before Start().
  int port() const;

  // Builds the response for a request (exposed for tests and benchmarks).
  HttpResponse Respond(const HttpRequest& request) const;
  // Respond() without compression (accept_encoding is ignored), joined:
  // returns the HTTP status code; fills content type and body.
  int Handle(const HttpRequest& request, std::string* content_type, std::string* body) const;

 private:
  class Handler;
  // Everything but the telemetry path.
  int Page(const HttpRequest& request, std::string* content_type, std::string* body) const;
  HttpOptions options_;
  std::vector<std::shared_ptr<const Exposition>> expositions_;
  HealthCheck health_;
  const SnapshotStore* snapshots_;  // null: no /sandboxes page
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<TlsContext> tls_;  // null: plain HTTP
  std::unique_ptr<BasicAuth> auth_;  // null: no basic auth
  std::string fixed_headers_;        // security headers of every response, "\r\n"-terminated
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
};

// Translates a Prometheus-style listen address into civetweb's listening_ports
// syntax (":9787" -> "9787"); kInvalid on a malformed address.
StatusOr<std::string> CivetListeningPorts(const std::string& addr);

}  // namespace gvisor_exporter
