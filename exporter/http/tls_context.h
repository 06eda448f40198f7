// The server's OpenSSL context for `tls_server_config`, handed to civetweb
// through its external_ssl_ctx callback (civetweb's own TLS options load the
// certificate once and cannot express Go's client-auth policies).
//
// Certificate rotation: an OpenSSL certificate callback runs at every
// handshake, stats cert_file and key_file (device, inode, size, mtime; a
// Kubernetes Secret volume swaps a symlink, which changes the inode) and
// reloads the pair when either changed. A pair that fails to load (a cert
// written before its key, a mismatched key) keeps the last good pair in
// service and is logged once per change; exporter-toolkit instead fails those
// handshakes until the files agree. The client CA file is checked and
// reloaded the same way (a CA bundle extended before new client certificates
// are issued takes effect without a restart).
#pragma once

#include <memory>
#include <string>

#include "exporter/common/status.h"
#include "exporter/http/web_config.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace gvisor_exporter {

class TlsContext {
 public:
  // Builds the context and loads the key pair and client CAs; fails (naming
  // the file and OpenSSL's reason) when any of them is unusable, or when a
  // cipher suite name is unknown.
  static StatusOr<std::unique_ptr<TlsContext>> Create(const TlsServerConfig& config);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Owned here; civetweb only borrows it (our callback tells it not to free).
  ssl_ctx_st* ssl_ctx() const;

  // Reloads the key pair when its files changed since the last load (called
  // by every handshake; exposed for tests). Returns whether a new pair is in
  // service.
  bool RefreshKeyPair();
  // The same for client_ca_file (false when there is none).
  bool RefreshClientCas();

  // Reloads from files changed on disk so far (tests).
  int reloads() const;

 private:
  struct State;
  explicit TlsContext(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace gvisor_exporter
