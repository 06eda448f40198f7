#include "exporter/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <mutex>
#include <string_view>

#include "exporter/common/log.h"

namespace gvisor_exporter {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ChainFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct NamesFree {
  void operator()(STACK_OF(X509_NAME) * s) const { sk_X509_NAME_pop_free(s, X509_NAME_free); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

// The OpenSSL error queue as one line (and emptied), for messages.
std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

// What identifies a file's current content without reading it.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  timespec mtime{};
  bool operator==(const FileStamp& o) const {
    return dev == o.dev && ino == o.ino && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
           mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

FileStamp Stamp(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, st.st_size, st.st_mtim};
}

struct KeyPair {
  std::unique_ptr<X509, X509Free> cert;
  std::unique_ptr<STACK_OF(X509), ChainFree> chain;  // intermediates after the leaf
  std::unique_ptr<EVP_PKEY, PkeyFree> key;
};

StatusOr<std::unique_ptr<BIO, BioFree>> OpenPem(const std::string& path, const char* what) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio)
    return IoError(std::string("cannot read ") + what + " " + path + ": " + OpenSslErrors());
  return bio;
}

StatusOr<std::shared_ptr<KeyPair>> LoadKeyPair(const std::string& cert_file,
                                               const std::string& key_file) {
  auto pair = std::make_shared<KeyPair>();
  auto cert_bio = OpenPem(cert_file, "cert_file");
  if (!cert_bio.ok()) return cert_bio.status();
  pair->cert.reset(PEM_read_bio_X509(cert_bio->get(), nullptr, nullptr, nullptr));
  if (!pair->cert) {
    return ParseError("cert_file " + cert_file + ": no PEM certificate: " + OpenSslErrors());
  }
  pair->chain.reset(sk_X509_new_null());
  while (X509* extra = PEM_read_bio_X509(cert_bio->get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(pair->chain.get(), extra);
  }
  ERR_clear_error();  // the loop ends on "no start line"
  auto key_bio = OpenPem(key_file, "key_file");
  if (!key_bio.ok()) return key_bio.status();
  pair->key.reset(PEM_read_bio_PrivateKey(key_bio->get(), nullptr, nullptr, nullptr));
  // Only the file name: OpenSSL's reason never quotes key material.
  if (!pair->key)
    return ParseError("key_file " + key_file + ": no PEM private key: " + OpenSslErrors());
  if (X509_check_private_key(pair->cert.get(), pair->key.get()) != 1) {
    ERR_clear_error();
    return InvalidError("key_file " + key_file + " does not match the certificate in cert_file " +
                        cert_file);
  }
  return pair;
}

// The client CA file as a verify store and the names sent in the certificate
// request.
struct ClientCas {
  std::unique_ptr<X509_STORE, StoreFree> store;
  std::unique_ptr<STACK_OF(X509_NAME), NamesFree> names;
};

StatusOr<std::shared_ptr<ClientCas>> LoadClientCas(const std::string& path) {
  auto cas = std::make_shared<ClientCas>();
  cas->store.reset(X509_STORE_new());
  if (!cas->store || X509_STORE_load_file(cas->store.get(), path.c_str()) != 1) {
    return InvalidError("client_ca_file " + path + ": " + OpenSslErrors());
  }
  cas->names.reset(SSL_load_client_CA_file(path.c_str()));
  ERR_clear_error();
  return cas;
}

// Go's RequestClientCert / RequireAnyClientCert: ask for a certificate but
// accept any (the chain is not verified).
int AcceptAnyCertificate(int, X509_STORE_CTX*) { return 1; }

// OpenSSL names for the IANA (Go) names of TLS <= 1.2 suites; TLS 1.3 names
// are accepted and skipped, as Go ignores them too.
StatusOr<std::string> OpenSslCipherList(const std::vector<std::string>& names) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> all(SSL_CTX_new(TLS_server_method()),
                                                        SSL_CTX_free);
  if (!all || SSL_CTX_set_cipher_list(all.get(), "ALL:@SECLEVEL=0") != 1) {
    return InternalError("cannot list OpenSSL's cipher suites: " + OpenSslErrors());
  }
  std::string list;
  STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(all.get());
  for (const std::string& name : names) {
    bool found = false;
    for (int i = 0; i < sk_SSL_CIPHER_num(ciphers) && !found; ++i) {
      const SSL_CIPHER* c = sk_SSL_CIPHER_value(ciphers, i);
      const char* standard = SSL_CIPHER_standard_name(c);
      if (standard == nullptr || name != standard) continue;
      found = true;
      if (std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.3") break;
      list += (list.empty() ? "" : ":") + std::string(SSL_CIPHER_get_name(c));
    }
    if (!found) {
      return InvalidError("tls_server_config.cipher_suites: unknown cipher suite " + name);
    }
  }
  return list;
}

// Puts a freshly loaded object in place of `*current`, or keeps the current
// one when loading failed, warning once per run of failures.
template <typename T>
bool Swap(StatusOr<std::shared_ptr<T>> loaded, std::shared_ptr<T>* current, bool* last_failed,
          const char* warning) {
  if (!loaded.ok()) {
    if (!*last_failed) LogWarn(warning, {{"err", loaded.status().message()}});
    *last_failed = true;
    return false;
  }
  *last_failed = false;
  *current = std::move(*loaded);
  return true;
}

}  // namespace

struct TlsContext::State {
  TlsServerConfig config;
  SSL_CTX* ctx = nullptr;
  std::mutex mu;  // guards the rest
  std::shared_ptr<KeyPair> pair;
  FileStamp cert_stamp, key_stamp;
  bool last_reload_failed = false;
  int reloads = 0;
  std::shared_ptr<ClientCas> client_cas;  // null: no client_ca_file
  FileStamp ca_stamp;
  bool last_ca_reload_failed = false;
};

TlsContext::TlsContext(std::unique_ptr<State> state) : state_(std::move(state)) {}

TlsContext::~TlsContext() {
  if (state_->ctx) SSL_CTX_free(state_->ctx);
}

ssl_ctx_st* TlsContext::ssl_ctx() const { return state_->ctx; }

int TlsContext::reloads() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->reloads;
}

bool TlsContext::RefreshKeyPair() {
  State& s = *state_;
  const FileStamp cert = Stamp(s.config.cert_file), key = Stamp(s.config.key_file);
  std::lock_guard<std::mutex> lock(s.mu);
  if (cert == s.cert_stamp && key == s.key_stamp) return false;
  auto pair = LoadKeyPair(s.config.cert_file, s.config.key_file);
  // Remember the stamps either way: a broken pair is not re-read (and logged)
  // at every handshake, only when the files change again.
  s.cert_stamp = cert;
  s.key_stamp = key;
  if (!Swap(std::move(pair), &s.pair, &s.last_reload_failed,
            "TLS key pair changed on disk but cannot be loaded; serving the previous one")) {
    return false;
  }
  ++s.reloads;
  LogInfo("TLS certificate reloaded", {{"cert_file", s.config.cert_file}});
  return true;
}

bool TlsContext::RefreshClientCas() {
  State& s = *state_;
  if (s.config.client_ca_file.empty()) return false;
  const FileStamp stamp = Stamp(s.config.client_ca_file);
  std::lock_guard<std::mutex> lock(s.mu);
  if (stamp == s.ca_stamp) return false;
  s.ca_stamp = stamp;
  auto cas = LoadClientCas(s.config.client_ca_file);
  if (!Swap(std::move(cas), &s.client_cas, &s.last_ca_reload_failed,
            "client CA file changed on disk but cannot be loaded; using the previous one")) {
    return false;
  }
  LogInfo("client CA file reloaded", {{"client_ca_file", s.config.client_ca_file}});
  return true;
}

StatusOr<std::unique_ptr<TlsContext>> TlsContext::Create(const TlsServerConfig& config) {
  auto state = std::make_unique<State>();
  state->config = config;
  auto pair = LoadKeyPair(config.cert_file, config.key_file);
  if (!pair.ok()) return pair.status();
  state->pair = std::move(*pair);
  state->cert_stamp = Stamp(config.cert_file);
  state->key_stamp = Stamp(config.key_file);
  state->ctx = SSL_CTX_new(TLS_server_method());
  std::unique_ptr<TlsContext> tls(new TlsContext(std::move(state)));
  State& s = *tls->state_;
  SSL_CTX* ctx = s.ctx;
  if (!ctx) return InternalError("SSL_CTX_new: " + OpenSslErrors());
  // TLS 1.0/1.1 need OpenSSL's security level 0 (SHA-1 signatures), as Go
  // still offers them when min_version asks for them.
  if (config.min_version < kTls12) SSL_CTX_set_security_level(ctx, 0);
  if (SSL_CTX_set_min_proto_version(ctx, config.min_version) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, config.max_version) != 1) {
    return InvalidError("tls_server_config: TLS versions not supported by OpenSSL: " +
                        OpenSslErrors());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  if (config.prefer_server_cipher_suites) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (!config.cipher_suites.empty()) {
    auto list = OpenSslCipherList(config.cipher_suites);
    if (!list.ok()) return list.status();
    // Only TLS 1.3 names given: the TLS <= 1.2 defaults stay.
    if (!list->empty() && SSL_CTX_set_cipher_list(ctx, list->c_str()) != 1) {
      return InvalidError("tls_server_config.cipher_suites: " + OpenSslErrors());
    }
  }
  if (SSL_CTX_use_cert_and_key(ctx, s.pair->cert.get(), s.pair->key.get(), s.pair->chain.get(),
                               1) != 1) {
    return InvalidError("cert_file " + config.cert_file + ": " + OpenSslErrors());
  }
  // Every handshake: serve the current pair from disk (rotation).
  // Every handshake: serve the current pair from disk (rotation), and verify
  // client certificates against the current client CA file.
  SSL_CTX_set_cert_cb(
      ctx,
      [](SSL* ssl, void* arg) -> int {
        auto* self = static_cast<TlsContext*>(arg);
        self->RefreshKeyPair();
        self->RefreshClientCas();
        std::shared_ptr<KeyPair> pair;
        std::shared_ptr<ClientCas> cas;
        {
          std::lock_guard<std::mutex> lock(self->state_->mu);
          pair = self->state_->pair;
          cas = self->state_->client_cas;
        }
        if (cas) {
          if (SSL_set1_verify_cert_store(ssl, cas->store.get()) != 1) return 0;
          if (cas->names) SSL_set_client_CA_list(ssl, SSL_dup_CA_list(cas->names.get()));
        }
        return SSL_use_cert_and_key(ssl, pair->cert.get(), pair->key.get(), pair->chain.get(), 1) ==
               1;
      },
      tls.get());
  const bool verify = config.client_auth == ClientAuth::kVerifyClientCertIfGiven ||
                      config.client_auth == ClientAuth::kRequireAndVerifyClientCert;
  if (!config.client_ca_file.empty()) {
    // Loaded here to fail at start; every handshake then uses s.client_cas.
    s.ca_stamp = Stamp(config.client_ca_file);
    auto cas = LoadClientCas(config.client_ca_file);
    if (!cas.ok()) return cas.status();
    s.client_cas = std::move(*cas);
  } else if (verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return InternalError("cannot load the system's CA certificates: " + OpenSslErrors());
  }
  switch (config.client_auth) {
    case ClientAuth::kNoClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAnyCertificate);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         AcceptAnyCertificate);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  // TLS 1.3 session tickets would need a session id context with client
  // certificates; the exporter's scrapes are short, so no resumption.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  return tls;
}

}  // namespace gvisor_exporter
