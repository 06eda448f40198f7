// A minimal HTTPS GET client for the Kubernetes API (libcurl): TLS verified
// against the cluster CA (never disabled), a bearer token re-read from its
// file on every request (projected service-account tokens rotate), a
// connect and a total timeout, a cap on the response size and no redirects
// (a redirect would send the token elsewhere).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "exporter/common/status.h"

namespace gvisor_exporter {

struct KubeClientOptions {
  std::string server;                       // "https://host:port", no trailing slash
  std::string ca_file;                      // PEM bundle; "" = the system trust store
  std::string token_file;                   // "" = no Authorization header
  std::chrono::milliseconds timeout{5000};  // whole request, connect included
  size_t max_response_bytes = 4 << 20;
};

// The API server of --kubernetes.api: "in-cluster" becomes
// https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (IPv6 bracketed);
// a URL must be https://host[:port] without a path.
StatusOr<std::string> ResolveApiServer(const std::string& flag);

class KubeClient {
 public:
  explicit KubeClient(KubeClientOptions options);

  // GET server + path; the body of a 200 reply. Failures map to reasons:
  // 401/403 permission, 404 not_found, other HTTP codes remote_error,
  // timeouts timeout, connection/TLS problems unavailable/permission, a body
  // over the cap too_large, an unreadable token file not_found/permission.
  StatusOr<std::string> Get(const std::string& path);

  const KubeClientOptions& options() const { return options_; }

 private:
  KubeClientOptions options_;
};

// The token from a token file: trimmed, bounded, and free of bytes that
// could break out of an HTTP header.
StatusOr<std::string> ReadBearerToken(const std::string& path);

}  // namespace gvisor_exporter
