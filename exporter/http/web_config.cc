#include "exporter/http/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <set>

#include "exporter/common/file_util.h"

namespace gvisor_exporter {

namespace {

// exporter-toolkit's extraHTTPHeaders: the only headers that may be set, and
// for some the only values (web/handler.go). Kept identical so a web config
// that works for a Go exporter works here and vice versa.
const std::map<std::string, std::vector<std::string>>& AllowedHeaders() {
  static const auto* headers = new std::map<std::string, std::vector<std::string>>{
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return *headers;
}

// Keys of exporter-toolkit this exporter does not implement: rejected with a
// clear reason instead of "unknown key" (or, worse, silently ignored).
const std::map<std::string, std::string>& UnsupportedKeys() {
  static const auto* keys = new std::map<std::string, std::string>{
      {"cert", "inline certificates are not supported; use cert_file"},
      {"key", "inline keys are not supported; use key_file"},
      {"client_ca", "an inline client CA is not supported; use client_ca_file"},
      {"client_allowed_sans", "not supported by gvisor-exporter"},
      {"curve_preferences", "not supported by gvisor-exporter (OpenSSL's defaults apply)"},
      {"rate_limit", "not supported by gvisor-exporter"},
  };
  return *keys;
}

// Calls `field(key, value)` for each entry of the mapping `node` (null is an
// empty mapping); fails on a non-mapping, a non-scalar key or a duplicate key.
Status ForEachEntry(const YAML::Node& node, const std::string& where,
                    const std::function<Status(const std::string&, const YAML::Node&)>& field) {
  if (node.IsNull()) return Status::Ok();
  if (!node.IsMap()) return ParseError(where + ": expected a mapping");
  std::set<std::string> seen;
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) return ParseError(where + ": keys must be strings");
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) return ParseError(where + ": key " + key + " given twice");
    GVE_RETURN_IF_ERROR(field(key, entry.second));
  }
  return Status::Ok();
}

Status ScalarString(const YAML::Node& node, const std::string& what, std::string* out) {
  if (node.IsNull()) {
    out->clear();
    return Status::Ok();
  }
  if (!node.IsScalar()) return ParseError(what + ": expected a string");
  *out = node.Scalar();
  return Status::Ok();
}

// YAML 1.1 booleans, as Go's yaml.v2 reads them.
Status ScalarBool(const YAML::Node& node, const std::string& what, bool* out) {
  static const std::set<std::string> kTrue = {"true", "True", "TRUE", "yes", "Yes", "YES",
                                              "on",   "On",   "ON",   "y",   "Y"};
  static const std::set<std::string> kFalse = {"false", "False", "FALSE", "no", "No", "NO",
                                               "off",   "Off",   "OFF",   "n",  "N"};
  if (!node.IsScalar()) return ParseError(what + ": expected true or false");
  if (kTrue.count(node.Scalar())) {
    *out = true;
  } else if (kFalse.count(node.Scalar())) {
    *out = false;
  } else {
    return ParseError(what + ": expected true or false, got \"" + node.Scalar() + "\"");
  }
  return Status::Ok();
}

Status ParseTlsVersion(const YAML::Node& node, const std::string& what, TlsVersion* out) {
  std::string s;
  GVE_RETURN_IF_ERROR(ScalarString(node, what, &s));
  for (TlsVersion v : {kTls10, kTls11, kTls12, kTls13}) {
    if (s == TlsVersionName(v)) {
      *out = v;
      return Status::Ok();
    }
  }
  return InvalidError(what + ": unknown TLS version \"" + s + "\" (TLS10, TLS11, TLS12, TLS13)");
}

Status ParseClientAuth(const std::string& s, ClientAuth* out) {
  static const std::map<std::string, ClientAuth> kTypes = {
      {"", ClientAuth::kNoClientCert},
      {"NoClientCert", ClientAuth::kNoClientCert},
      {"RequestClientCert", ClientAuth::kRequestClientCert},
      {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
      {"RequireClientCert", ClientAuth::kRequireAnyClientCert},  // toolkit's old name
      {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert},
  };
  const auto it = kTypes.find(s);
  if (it == kTypes.end())
    return InvalidError("tls_server_config.client_auth_type: invalid \"" + s + "\"");
  *out = it->second;
  return Status::Ok();
}

std::string JoinDir(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

Status ParseTls(const YAML::Node& node, const std::string& base_dir, WebConfig* config) {
  TlsServerConfig& tls = config->tls;
  std::string client_auth;
  bool any_set = false;
  GVE_RETURN_IF_ERROR(ForEachEntry(
      node, "tls_server_config", [&](const std::string& key, const YAML::Node& value) -> Status {
        const std::string what = "tls_server_config." + key;
        if (const auto it = UnsupportedKeys().find(key); it != UnsupportedKeys().end()) {
          return InvalidError(what + ": " + it->second);
        }
        if (key == "cert_file") return ScalarString(value, what, &tls.cert_file);
        if (key == "key_file") return ScalarString(value, what, &tls.key_file);
        if (key == "client_ca_file") return ScalarString(value, what, &tls.client_ca_file);
        if (key == "client_auth_type") return ScalarString(value, what, &client_auth);
        if (key == "min_version") return ParseTlsVersion(value, what, &tls.min_version);
        if (key == "max_version") return ParseTlsVersion(value, what, &tls.max_version);
        if (key == "prefer_server_cipher_suites") {
          return ScalarBool(value, what, &tls.prefer_server_cipher_suites);
        }
        if (key == "cipher_suites") {
          if (value.IsNull()) return Status::Ok();
          if (!value.IsSequence()) return ParseError(what + ": expected a list");
          for (const auto& item : value) {
            if (!item.IsScalar()) return ParseError(what + ": expected a list of names");
            tls.cipher_suites.push_back(item.Scalar());
          }
          return Status::Ok();
        }
        return InvalidError("unknown key " + what);
      }));
  // exporter-toolkit's IsEnabled: any of these makes the port TLS-only.
  any_set = !tls.cert_file.empty() || !tls.key_file.empty() || !tls.client_ca_file.empty() ||
            !client_auth.empty();
  GVE_RETURN_IF_ERROR(ParseClientAuth(client_auth, &tls.client_auth));
  config->tls_enabled = any_set;
  if (!any_set) return Status::Ok();
  if (tls.cert_file.empty()) return InvalidError("tls_server_config: missing cert_file");
  if (tls.key_file.empty()) return InvalidError("tls_server_config: missing key_file");
  if (!tls.client_ca_file.empty() && tls.client_auth == ClientAuth::kNoClientCert) {
    return InvalidError(
        "tls_server_config: client_ca_file is set without a client_auth_type (client CAs "
        "configured without a client auth policy)");
  }
  if (tls.min_version > tls.max_version) {
    return InvalidError(std::string("tls_server_config: min_version ") +
                        TlsVersionName(tls.min_version) + " is above max_version " +
                        TlsVersionName(tls.max_version));
  }
  tls.cert_file = JoinDir(base_dir, tls.cert_file);
  tls.key_file = JoinDir(base_dir, tls.key_file);
  tls.client_ca_file = JoinDir(base_dir, tls.client_ca_file);
  return Status::Ok();
}

Status ParseHttp(const YAML::Node& node, WebConfig* config) {
  return ForEachEntry(
      node, "http_server_config", [&](const std::string& key, const YAML::Node& value) -> Status {
        const std::string what = "http_server_config." + key;
        if (key == "http2") return ScalarBool(value, what, &config->http2);
        if (key != "headers") return InvalidError("unknown key " + what);
        return ForEachEntry(value, what, [&](const std::string& name, const YAML::Node& v) {
          const auto allowed = AllowedHeaders().find(name);
          if (allowed == AllowedHeaders().end()) {
            return InvalidError("HTTP header \"" + name + "\" can not be configured");
          }
          std::string text;
          GVE_RETURN_IF_ERROR(ScalarString(v, what + "." + name, &text));
          // A header value ends at a line break: reject CR/LF (response splitting).
          if (text.find_first_of("\r\n") != std::string::npos) {
            return InvalidError(what + "." + name + ": line breaks are not allowed");
          }
          const auto& values = allowed->second;
          if (!values.empty() && std::find(values.begin(), values.end(), text) == values.end()) {
            std::string expected;
            for (const auto& e : values) expected += (expected.empty() ? "\"" : ", \"") + e + "\"";
            return InvalidError("invalid value for " + name + ": expected one of " + expected +
                                ", got \"" + text + "\"");
          }
          // Blank: unset (exporter-toolkit's "Unset if blank").
          if (!text.empty()) config->headers.emplace_back(name, text);
          return Status::Ok();
        });
      });
}

Status ParseUsers(const YAML::Node& node, WebConfig* config) {
  return ForEachEntry(node, "basic_auth_users", [&](const std::string& user, const YAML::Node& v) {
    std::string hash;
    // The hash is a secret: messages name the user, never the value.
    GVE_RETURN_IF_ERROR(ScalarString(v, "basic_auth_users." + user, &hash));
    if (!IsBcryptHash(hash)) {
      return InvalidError("basic_auth_users." + user +
                          ": not a bcrypt hash ($2y$, $2b$ or $2a$, cost 04..31, 60 characters)");
    }
    config->basic_auth_users[user] = hash;
    return Status::Ok();
  });
}

}  // namespace

const char* TlsVersionName(TlsVersion v) {
  switch (v) {
    case kTls10:
      return "TLS10";
    case kTls11:
      return "TLS11";
    case kTls12:
      return "TLS12";
    case kTls13:
      return "TLS13";
  }
  return "?";
}

bool IsBcryptHash(std::string_view h) {
  if (h.size() != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$') return false;
  if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
  if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9') return false;
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  if (cost < 4 || cost > 31) return false;
  for (size_t i = 7; i < h.size(); ++i) {
    const char c = h[i];
    const bool b64 = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '/';
    if (!b64) return false;
  }
  return true;
}

StatusOr<WebConfig> ParseWebConfig(std::string_view yaml, const std::string& base_dir) {
  if (yaml.size() > kMaxWebConfigBytes) return TooLargeError("web config larger than 1 MiB");
  WebConfig config;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    // yaml-cpp's message has the line and column, never more than a token.
    return ParseError(std::string("bad YAML: ") + e.what());
  }
  try {
    GVE_RETURN_IF_ERROR(ForEachEntry(
        root, "web config", [&](const std::string& key, const YAML::Node& value) -> Status {
          if (key == "tls_server_config") return ParseTls(value, base_dir, &config);
          if (key == "http_server_config") return ParseHttp(value, &config);
          if (key == "basic_auth_users") return ParseUsers(value, &config);
          if (const auto it = UnsupportedKeys().find(key); it != UnsupportedKeys().end()) {
            return InvalidError(key + ": " + it->second);
          }
          return InvalidError("unknown key " + key);
        }));
  } catch (const YAML::Exception& e) {
    return ParseError(std::string("bad YAML: ") + e.what());
  }
  return config;
}

StatusOr<WebConfig> ReadWebConfigFile(const std::string& path) {
  auto text = ReadFileBounded(path, kMaxWebConfigBytes);
  if (!text.ok()) return text.status().WithContext("web config " + path);
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash == 0 ? 1 : slash);
  auto config = ParseWebConfig(*text, dir);
  if (!config.ok()) return config.status().WithContext("web config " + path);
  config->source = path;
  return config;
}

}  // namespace gvisor_exporter
