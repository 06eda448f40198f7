// The web configuration file (`--web.config.file`) in the format of the
// Prometheus exporter-toolkit (docs/web-configuration.md there): TLS, client
// certificates, basic auth users and extra response headers. Parsing is as
// strict as exporter-toolkit's yaml.UnmarshalStrict: an unknown key, a value
// of the wrong type, a duplicate key or an invalid combination is an error
// naming the key. Keys of the toolkit we do not implement (inline `cert`,
// `key`, `client_ca`, `client_allowed_sans`, `curve_preferences`, `rate_limit`)
// are rejected with a message saying so, never silently ignored.
//
// Only the syntax and the combinations are checked here (no file is opened:
// the parser is fuzzed); the TLS context and the basic-auth verifier check the
// files and hashes when the server starts.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// Go's tls.ClientAuthType, by its exporter-toolkit name.
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

// TLS protocol versions with their wire values (as OpenSSL's TLS1_x_VERSION).
enum TlsVersion : int {
  kTls10 = 0x0301,
  kTls11 = 0x0302,
  kTls12 = 0x0303,
  kTls13 = 0x0304,
};

struct TlsServerConfig {
  // Paths are absolute, or made relative to the web config file's directory
  // (as exporter-toolkit's SetDirectory does).
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // "" = the system's roots when verifying
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  TlsVersion min_version = kTls12;
  TlsVersion max_version = kTls13;
  // IANA / Go names ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"); TLS 1.0-1.2
  // only, as in Go (TLS 1.3 suites are not configurable). Empty: defaults.
  std::vector<std::string> cipher_suites;
  bool prefer_server_cipher_suites = true;
};

struct WebConfig {
  // True when tls_server_config sets anything: the port then speaks TLS only.
  bool tls_enabled = false;
  TlsServerConfig tls;
  // user -> bcrypt hash ($2a$, $2b$ or $2y$). Empty: no basic auth.
  std::map<std::string, std::string> basic_auth_users;
  // Extra response headers, from exporter-toolkit's fixed allow-list.
  std::vector<std::pair<std::string, std::string>> headers;
  // Accepted for compatibility; civetweb serves HTTP/1.1 only.
  bool http2 = true;
  // The file it was read from (for messages); "" when parsed from text.
  std::string source;
};

// Largest web config file accepted.
inline constexpr size_t kMaxWebConfigBytes = 1 << 20;

// Parses the YAML text of a web config file; relative paths in it are joined
// to `base_dir` (the file's directory; "" leaves them as they are).
StatusOr<WebConfig> ParseWebConfig(std::string_view yaml, const std::string& base_dir);

// Reads and parses `path`; every error message starts with the path.
StatusOr<WebConfig> ReadWebConfigFile(const std::string& path);

// Whether `hash` has the shape of a bcrypt hash: $2a$/$2b$/$2y$, a two-digit
// cost 4..31, then 53 characters of bcrypt's base64 (salt + digest).
bool IsBcryptHash(std::string_view hash);

// "TLS12" for kTls12 etc.
const char* TlsVersionName(TlsVersion v);

}  // namespace gvisor_exporter
