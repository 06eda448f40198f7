// The HTTP server over TLS in-process: a real handshake with an OpenSSL
// client against the server's own SSL_CTX through civetweb (so the ASan unit
// run covers the TLS path and the civetweb compatibility libraries), client
// certificate policy, and rotation. Certificates come from the openssl CLI in
// a temp dir (test-only keys, never committed).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "exporter/http/http_server.h"

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct TlsResult {
  bool handshake = false;
  std::string response;
  std::string peer_cn;
};

// GET `path` over TLS, trusting `ca`; with a client certificate when given.
TlsResult TlsGet(int port, const std::string& ca, const std::string& path,
                 const std::string& cert = "", const std::string& key = "") {
  TlsResult out;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!cert.empty()) {
    SSL_CTX_use_certificate_file(ctx, cert.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  SSL* ssl = SSL_new(ctx);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    SSL_set_fd(ssl, fd);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
    out.handshake = SSL_connect(ssl) == 1;
    if (out.handshake) {
      if (X509* peer = SSL_get1_peer_certificate(ssl)) {
        char cn[256] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
        out.peer_cn = cn;
        X509_free(peer);
      }
      const std::string req = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
      SSL_write(ssl, req.data(), static_cast<int>(req.size()));
      char buf[16384];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) out.response.append(buf, n);
    }
  }
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return out;
}

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gve-http-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
        "-subj /CN=ca -keyout ca.key -out ca.crt");
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
        "-subj /CN=other -keyout other.key -out other.crt");
    for (const char* name : {"one", "two", "client"}) Sign(name, "ca");
    Sign("intruder", "other");
    std::filesystem::copy_file(Path("one.crt"), Path("live.crt"));
    std::filesystem::copy_file(Path("one.key"), Path("live.key"));
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Run(const std::string& cmd) {
    ASSERT_EQ(std::system(("cd " + dir_ + " && " + cmd + " >/dev/null 2>&1").c_str()), 0) << cmd;
  }
  void Sign(const std::string& name, const std::string& ca) {
    std::ofstream(Path(name + ".ext")) << "subjectAltName=IP:127.0.0.1\n";
    Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + name +
        " -keyout " + name + ".key -out " + name + ".csr");
    Run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".crt -CAkey " + ca +
        ".key -CAcreateserial -days 1 -extfile " + name + ".ext -out " + name + ".crt");
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void StartServer(ClientAuth auth, const std::string& client_ca = "ca.crt") {
    HttpOptions o;
    o.listen_address = "127.0.0.1:0";
    o.web.tls_enabled = true;
    o.web.tls.cert_file = Path("live.crt");
    o.web.tls.key_file = Path("live.key");
    if (auth != ClientAuth::kNoClientCert) o.web.tls.client_ca_file = Path(client_ca);
    o.web.tls.client_auth = auth;
    server_ = std::make_unique<HttpServer>(o, std::vector<std::shared_ptr<const Exposition>>{},
                                           [] { return std::make_pair(true, std::string("ok")); });
    const Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  std::string dir_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpTlsTest, ServesOverTlsAndRotatesWithoutRestart) {
  StartServer(ClientAuth::kNoClientCert);
  TlsResult r = TlsGet(server_->port(), Path("ca.crt"), "/healthz");
  ASSERT_TRUE(r.handshake);
  EXPECT_EQ(r.peer_cn, "one");
  EXPECT_THAT(r.response, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(r.response, HasSubstr("\r\n\r\nok\n"));
  // A CA that did not sign the server certificate: the client refuses.
  EXPECT_FALSE(TlsGet(server_->port(), Path("other.crt"), "/healthz").handshake);
  // Rotation: new files in place of the old ones (new inodes).
  std::filesystem::remove(Path("live.crt"));
  std::filesystem::remove(Path("live.key"));
  std::filesystem::copy_file(Path("two.crt"), Path("live.crt"));
  std::filesystem::copy_file(Path("two.key"), Path("live.key"));
  r = TlsGet(server_->port(), Path("ca.crt"), "/healthz");
  ASSERT_TRUE(r.handshake);
  EXPECT_EQ(r.peer_cn, "two");
  EXPECT_THAT(r.response, StartsWith("HTTP/1.1 200"));
}

TEST_F(HttpTlsTest, RequireAndVerifyClientCert) {
  StartServer(ClientAuth::kRequireAndVerifyClientCert);
  // TLS 1.3: the server's refusal arrives after the client's handshake ends,
  // so the request gets no response.
  EXPECT_EQ(TlsGet(server_->port(), Path("ca.crt"), "/healthz").response, "");
  EXPECT_EQ(TlsGet(server_->port(), Path("ca.crt"), "/healthz", Path("intruder.crt"),
                   Path("intruder.key"))
                .response,
            "");
  const TlsResult ok =
      TlsGet(server_->port(), Path("ca.crt"), "/healthz", Path("client.crt"), Path("client.key"));
  EXPECT_THAT(ok.response, StartsWith("HTTP/1.1 200"));
}

TEST_F(HttpTlsTest, ClientCaFileReloadedWhenItChanges) {
  std::filesystem::copy_file(Path("other.crt"), Path("clients.crt"));
  StartServer(ClientAuth::kRequireAndVerifyClientCert, "clients.crt");
  const auto get = [&](const char* who) {
    return TlsGet(server_->port(), Path("ca.crt"), "/healthz", Path(std::string(who) + ".crt"),
                  Path(std::string(who) + ".key"))
        .response;
  };
  EXPECT_EQ(get("client"), "");  // signed by ca, which is not trusted yet
  EXPECT_THAT(get("intruder"), StartsWith("HTTP/1.1 200"));
  std::filesystem::remove(Path("clients.crt"));
  std::filesystem::copy_file(Path("ca.crt"), Path("clients.crt"));
  EXPECT_THAT(get("client"), StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(get("intruder"), "");
}

TEST_F(HttpTlsTest, RequireAnyClientCertAcceptsAnyCertificate) {
  StartServer(ClientAuth::kRequireAnyClientCert);
  EXPECT_EQ(TlsGet(server_->port(), Path("ca.crt"), "/healthz").response, "");
  EXPECT_THAT(TlsGet(server_->port(), Path("ca.crt"), "/healthz", Path("intruder.crt"),
                     Path("intruder.key"))
                  .response,
              StartsWith("HTTP/1.1 200"));
}

TEST_F(HttpTlsTest, RequestClientCertAcceptsAnyOrNone) {
  StartServer(ClientAuth::kRequestClientCert);
  EXPECT_THAT(TlsGet(server_->port(), Path("ca.crt"), "/healthz").response,
              StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(TlsGet(server_->port(), Path("ca.crt"), "/healthz", Path("intruder.crt"),
                     Path("intruder.key"))
                  .response,
              StartsWith("HTTP/1.1 200"));
}

TEST_F(HttpTlsTest, VerifyClientCertIfGiven) {
  StartServer(ClientAuth::kVerifyClientCertIfGiven);
  EXPECT_THAT(TlsGet(server_->port(), Path("ca.crt"), "/healthz").response,
              StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(TlsGet(server_->port(), Path("ca.crt"), "/healthz", Path("intruder.crt"),
                   Path("intruder.key"))
                .response,
            "");
  EXPECT_THAT(
      TlsGet(server_->port(), Path("ca.crt"), "/healthz", Path("client.crt"), Path("client.key"))
          .response,
      StartsWith("HTTP/1.1 200"));
}

}  // namespace
}  // namespace gvisor_exporter
