#include "exporter/http/http_server.h"

#include <CivetServer.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "exporter/collectors/exposition_body.h"
#include "exporter/common/version.h"
#include "exporter/http/basic_auth.h"
#include "exporter/http/civetweb_tls.h"
#include "exporter/http/tls_context.h"
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
    case 401:
      return "Unauthorized";
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

size_t HttpResponse::size() const {
  size_t n = 0;
  for (const auto& piece : body) n += piece->size();
  return n;
}

std::string HttpResponse::JoinedBody() const {
  std::string out;
  out.reserve(size());
  for (const auto& piece : body) out += *piece;
  return out;
}

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
  bool handleGet(CivetServer*, mg_connection* conn) override { return Serve(conn, false); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return Serve(conn, true); }

 private:
  bool Serve(mg_connection* conn, bool head) {
    const mg_request_info* req = mg_get_request_info(conn);
    const std::string path = req->local_uri ? req->local_uri : "/";
    if (server_->auth_ && path != kUnauthenticatedPath) {
      const char* authorization = mg_get_header(conn, "Authorization");
      if (authorization == nullptr || !server_->auth_->Check(authorization)) {
        static constexpr char kBody[] = "Unauthorized\n";
        mg_printf(conn,
                  "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                  "Cache-Control: no-cache\r\n%sConnection: close\r\n\r\n",
                  sizeof(kBody) - 1, server_->fixed_headers_.c_str());
        if (!head) mg_write(conn, kBody, sizeof(kBody) - 1);
        return true;
      }
    }
    const char* accept = mg_get_header(conn, "Accept");
    const char* accept_encoding = mg_get_header(conn, "Accept-Encoding");
    const HttpResponse r =
        server_->Respond({path, req->query_string ? req->query_string : "", accept ? accept : "",
                          accept_encoding ? accept_encoding : ""});
    const std::string encoding =
        r.content_encoding.empty() ? "" : "Content-Encoding: " + r.content_encoding + "\r\n";
    // The pages show untrusted strings (pod names): they are escaped, and the
    // CSP forbids scripts anyway (fixed_headers_). Vary: the same URL answers
    // HTML or JSON, and gzip or not.
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n"
              "Cache-Control: no-cache\r\nVary: Accept, Accept-Encoding\r\n%s"
              "Connection: close\r\n\r\n",
              r.code, StatusText(r.code), r.content_type.c_str(), encoding.c_str(), r.size(),
              server_->fixed_headers_.c_str());
    if (head) return true;
    // Piece by piece from where they are cached (no joined copy); a client
    // that goes away ends the loop.
    for (const auto& piece : r.body) {
      if (mg_write(conn, piece->data(), piece->size()) <= 0) break;
    }
    return true;
  }

  const HttpServer* server_;
};

HttpServer::HttpServer(HttpOptions options,
                       std::vector<std::shared_ptr<const Exposition>> expositions,
                       HealthCheck health, const SnapshotStore* snapshots)
    : options_(std::move(options)),
      expositions_(std::move(expositions)),
      health_(std::move(health)),
      snapshots_(snapshots),
      handler_(std::make_unique<Handler>(this)) {}

namespace {

// The address to reach our own listener on: the listen address's host, or
// loopback for a wildcard (":9787", "0.0.0.0", "[::]").
std::string SelfConnectHost(const std::string& listen_address) {
  const size_t colon = listen_address.rfind(':');
  std::string host = colon == std::string::npos ? "" : listen_address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "0.0.0.0" || host == "localhost") return "127.0.0.1";
  if (host == "::") return "::1";
  return host;
}

// Connects to host:port and hangs up at once; a no-op on any failure.
void TouchListener(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return;
  const int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    (void)connect(fd, res->ai_addr, res->ai_addrlen);
    close(fd);
  }
  freeaddrinfo(res);
}

}  // namespace

HttpServer::~HttpServer() {
  if (!server_) return;
  // civetweb's master thread sees the stop flag only when its poll() on the
  // listening sockets returns, which without traffic takes its 2 s quantum:
  // every shutdown took 2 s. A connection of our own (closed at once, so a
  // worker that gets it reads EOF) wakes it.
  std::atomic<bool> closed{false};
  std::thread waker([this, &closed] {
    const std::string host = SelfConnectHost(options_.listen_address);
    for (int i = 0; i < 300 && !closed.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (port_ > 0 && !closed.load()) TouchListener(host, port_);
    }
  });
  server_->close();
  closed = true;
  waker.join();
}

namespace {

// Our own security headers, replaced by the web config's value of the same
// name; the config's others (from exporter-toolkit's allow-list) are added.
std::string FixedHeaders(const std::vector<std::pair<std::string, std::string>>& configured) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Content-Type-Options", "nosniff"},
      {"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"}};
  for (const auto& [name, value] : configured) {
    bool replaced = false;
    for (auto& h : headers) {
      if (h.first == name) h.second = value, replaced = true;
    }
    if (!replaced) headers.emplace_back(name, value);
  }
  std::string out;
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  return out;
}

// civetweb's external_ssl_ctx callback: at start (*ssl_ctx null) hands it our
// context; at shutdown (*ssl_ctx set) returns 1 so that civetweb does not
// free it (TlsContext owns it).
int ExternalSslContext(void** ssl_ctx, void* user_data) {
  if (*ssl_ctx != nullptr) return 1;
  const auto* tls =
      static_cast<const TlsContext*>(static_cast<CivetServer*>(user_data)->getUserContext());
  if (tls == nullptr) return -1;
  *ssl_ctx = tls->ssl_ctx();
  return 1;
}

}  // namespace

Status HttpServer::Start() {
  auto ports = CivetListeningPorts(options_.listen_address);
  if (!ports.ok()) return ports.status();
  if (options_.telemetry_path.empty() || options_.telemetry_path[0] != '/') {
    return InvalidError("telemetry path must start with '/': " + options_.telemetry_path);
  }
  const WebConfig& web = options_.web;
  const std::string web_context = web.source.empty() ? "web config" : "web config " + web.source;
  if (web.tls_enabled) {
    auto tls = TlsContext::Create(web.tls);
    if (!tls.ok()) return tls.status().WithContext(web_context);
    GVE_RETURN_IF_ERROR(PrepareCivetwebTls());
    tls_ = std::move(*tls);
    *ports += "s";  // civetweb: this port speaks TLS only
  }
  if (!web.basic_auth_users.empty()) {
    auto auth = BasicAuth::Create(web.basic_auth_users);
    if (!auth.ok()) return auth.status().WithContext(web_context);
    auth_ = std::move(*auth);
  }
  fixed_headers_ = FixedHeaders(web.headers);
  std::vector<std::string> opts = {
      "listening_ports",    *ports,  "num_threads",       std::to_string(options_.threads),
      "request_timeout_ms", "10000", "enable_keep_alive", "no"};
  CivetCallbacks callbacks;
  if (tls_) callbacks.external_ssl_ctx = ExternalSslContext;
  try {
    server_ = std::make_unique<CivetServer>(opts, &callbacks, tls_.get());
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
  HttpRequest identity = req;
  identity.accept_encoding.clear();
  HttpResponse r = Respond(identity);
  *type = std::move(r.content_type);
  *body = r.JoinedBody();
  return r.code;
}

HttpResponse HttpServer::Respond(const HttpRequest& req) const {
  HttpResponse r;
  const std::string& path = req.path;
  if (path == options_.telemetry_path) {
    r.content_type = kMetricsContentType;
    const bool gzip = AcceptsGzip(req.accept_encoding);
    if (gzip) r.content_encoding = "gzip";
    // Nothing registered: an empty text (with gzip, an empty member).
    if (expositions_.empty()) r.body = ExpositionBody(gzip).Finish();
    // Each a finished body (with gzip a member; members concatenate).
    for (const auto& e : expositions_) e->ExpositionParts(gzip, &r.body);
    return r;
  }
  // The other pages: one piece, never compressed.
  auto text = std::make_shared<std::string>();
  r.code = Page(req, &r.content_type, text.get());
  r.body.push_back(std::move(text));
  return r;
}

int HttpServer::Page(const HttpRequest& req, std::string* type, std::string* body) const {
  const std::string& path = req.path;
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
