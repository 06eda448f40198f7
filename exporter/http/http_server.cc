#include "exporter/http/http_server.h"

#include <CivetServer.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "exporter/collectors/snapshot_collector.h"
#include "exporter/collectors/text_format.h"
#include "exporter/common/version.h"
#include "exporter/views/sandboxes_view.h"

namespace gvisor_exporter {

namespace {

constexpr char kMetricsContentType[] = "text/plain; version=0.0.4; charset=utf-8";

bool IsPort(const std::string& s) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return std::stoi(s) <= 65535;
}

const char* StatusText(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    default:
      return "Service Unavailable";
  }
}

// The raw value of query parameter `name` (nullopt when absent). Values are
// matched literally: the only parameter is `format`, whose values need no
// percent-decoding.
std::optional<std::string> QueryParam(const std::string& query, const std::string& name) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string part = query.substr(start, end - start);
    const size_t eq = part.find('=');
    if (part.substr(0, eq) == name) return eq == std::string::npos ? "" : part.substr(eq + 1);
    start = end + 1;
  }
  return std::nullopt;
}

// JSON when the Accept header lists application/json before text/html (or
// without it): a browser's default Accept names text/html first, curl's */*
// names neither and gets the HTML. q-values are not weighed; `?format=` is
// the explicit choice.
bool AcceptsJsonFirst(const std::string& accept) {
  const size_t json = accept.find("application/json");
  const size_t html = accept.find("text/html");
  return json != std::string::npos && (html == std::string::npos || json < html);
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

StatusOr<std::string> CivetListeningPorts(const std::string& addr) {
  const auto colon = addr.rfind(':');
  if (colon == std::string::npos) return InvalidError("listen address needs host:port: " + addr);
  const std::string host = addr.substr(0, colon), port = addr.substr(colon + 1);
  if (!IsPort(port)) return InvalidError("bad port in listen address: " + addr);
  if (host.empty() || host == "0.0.0.0") return port;
  if (host.front() == '[' && host.back() == ']')
    return "[" + host.substr(1, host.size() - 2) + "]:" + port;
  for (char c : host) {
    if (!((c >= '0' && c <= '9') || c == '.')) {
      // civetweb binds numeric addresses only; "localhost" is the one name we map.
      if (host == "localhost") return "127.0.0.1:" + port;
      return InvalidError("listen address must be numeric (or localhost): " + addr);
    }
  }
  return host + ":" + port;
}

class HttpServer::Handler : public CivetHandler {
 public:
  explicit Handler(const HttpServer* server) : server_(server) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    const mg_request_info* req = mg_get_request_info(conn);
    const char* accept = mg_get_header(conn, "Accept");
    std::string type, body;
    const int code =
        server_->Handle({req->local_uri ? req->local_uri : "/",
                         req->query_string ? req->query_string : "", accept ? accept : ""},
                        &type, &body);
    // The pages show untrusted strings (pod names): they are escaped, and the
    // CSP forbids scripts anyway. Vary: the same URL answers HTML or JSON.
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-cache\r\nVary: Accept\r\nX-Content-Type-Options: nosniff\r\n"
              "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n"
              "Connection: close\r\n\r\n",
              code, StatusText(code), type.c_str(), body.size());
    if (std::string(req->request_method) != "HEAD") mg_write(conn, body.data(), body.size());
    return true;
  }

 private:
  const HttpServer* server_;
};

HttpServer::HttpServer(HttpOptions options,
                       std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                       HealthCheck health, const SnapshotStore* snapshots)
    : options_(std::move(options)),
      collectables_(std::move(collectables)),
      health_(std::move(health)),
      snapshots_(snapshots),
      handler_(std::make_unique<Handler>(this)) {}

HttpServer::~HttpServer() {
  if (server_) server_->close();
}

Status HttpServer::Start() {
  auto ports = CivetListeningPorts(options_.listen_address);
  if (!ports.ok()) return ports.status();
  if (options_.telemetry_path.empty() || options_.telemetry_path[0] != '/') {
    return InvalidError("telemetry path must start with '/': " + options_.telemetry_path);
  }
  std::vector<std::string> opts = {
      "listening_ports",    *ports,  "num_threads",       std::to_string(options_.threads),
      "request_timeout_ms", "10000", "enable_keep_alive", "no"};
  try {
    server_ = std::make_unique<CivetServer>(opts);
  } catch (const std::exception& e) {
    return UnavailableError("cannot listen on " + options_.listen_address + ": " + e.what());
  }
  server_->addHandler("/", handler_.get());
  auto bound = server_->getListeningPorts();
  port_ = bound.empty() ? 0 : bound[0];
  return Status::Ok();
}

int HttpServer::port() const { return port_; }

int HttpServer::Handle(const HttpRequest& req, std::string* type, std::string* body) const {
  const std::string& path = req.path;
  if (path == options_.telemetry_path) {
    *type = kMetricsContentType;
    body->clear();
    for (const auto& c : collectables_) {
      // The snapshot collector serves its text pre-rendered per snapshot.
      if (const auto* sc = dynamic_cast<const SnapshotCollector*>(c.get())) {
        sc->AppendExposition(body);
      } else {
        AppendTextFormat(c->Collect(), body);
      }
    }
    return 200;
  }
  if (path == "/healthz") {
    auto [ok, msg] = health_ ? health_() : std::make_pair(true, std::string("ok"));
    *type = "text/plain; charset=utf-8";
    *body = msg + "\n";
    return ok ? 200 : 503;
  }
  if (path == "/sandboxes" && snapshots_) {
    const auto format = QueryParam(req.query, "format");
    if (format && *format != "json" && *format != "html") {
      *type = "text/plain; charset=utf-8";
      *body = "unknown format; use format=html or format=json\n";
      return 400;
    }
    const auto snap = snapshots_->Get();  // keeps this snapshot alive while rendering
    if (format ? *format == "json" : AcceptsJsonFirst(req.accept)) {
      *type = "application/json";
      *body = RenderSandboxesJson(snap.get(), NowSeconds());
    } else {
      *type = "text/html; charset=utf-8";
      *body = RenderSandboxesHtml(snap.get(), NowSeconds());
    }
    return 200;
  }
  if (path == "/") {
    const std::string tp = HtmlText(options_.telemetry_path);
    *type = "text/html; charset=utf-8";
    *body = std::string(
                "<!DOCTYPE html>\n<html><head><title>gVisor Exporter</title></head><body>\n"
                "<h1>gVisor Exporter</h1>\n<p>Per-node Prometheus exporter for gVisor "
                "(runsc) sandboxes, version ") +
            kVersion + ".</p>\n<ul>\n<li><a href=\"" + tp + "\">Metrics</a> (" + tp + ")</li>\n" +
            (snapshots_ ? "<li><a href=\"/sandboxes\">Sandboxes</a> (/sandboxes, "
                          "<a href=\"/sandboxes?format=json\">JSON</a>)</li>\n"
                        : "") +
            "<li><a href=\"/healthz\">Health</a> (/healthz)</li>\n</ul>\n</body></html>\n";
    return 200;
  }
  *type = "text/plain; charset=utf-8";
  *body = "404 page not found\n";
  return 404;
}

}  // namespace gvisor_exporter
