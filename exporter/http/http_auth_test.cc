// The HTTP server with a web config over plain HTTP: which paths need basic
// auth, the 401 answer, and the configured headers. (TLS handshakes are
// tested end to end in tests/e2e/test_web_tls_e2e.py.)
#include <arpa/inet.h>
#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exporter/collectors/snapshot_collector.h"
#include "exporter/collectors/testing_snapshot.h"
#include "exporter/http/http_server.h"

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string Get(int port, const std::string& path, const std::string& headers = "") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return "";
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n" + headers + "\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

class HttpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.Publish(std::make_shared<NodeSnapshot>(MakeTestSnapshot()));
    auto c = std::make_shared<SnapshotCollector>(&store_, &errors_);
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    ASSERT_NE(crypt_gensalt_rn("$2y$", 4, nullptr, 0, salt, sizeof(salt)), nullptr);
    crypt_data data{};
    HttpOptions o;
    o.listen_address = "127.0.0.1:0";
    o.web.basic_auth_users["prometheus"] = crypt_rn("s3cret", salt, &data, sizeof(data));
    o.web.headers = {{"X-Frame-Options", "deny"},
                     {"Content-Security-Policy", "default-src 'self'"}};
    server_ = std::make_unique<HttpServer>(
        o, std::vector<std::shared_ptr<const Exposition>>{c},
        [] { return std::make_pair(true, std::string("ok")); }, &store_);
    ASSERT_TRUE(server_->Start().ok());
  }
  SnapshotStore store_;
  ErrorReporter errors_;
  std::unique_ptr<HttpServer> server_;
};

// base64("prometheus:s3cret") and base64("prometheus:wrong").
constexpr char kGood[] = "Authorization: Basic cHJvbWV0aGV1czpzM2NyZXQ=\r\n";
constexpr char kWrong[] = "Authorization: Basic cHJvbWV0aGV1czp3cm9uZw==\r\n";

TEST_F(HttpAuthTest, EveryPathButHealthzNeedsCredentials) {
  for (const char* path : {"/metrics", "/sandboxes", "/sandboxes?format=json", "/", "/nope"}) {
    for (const std::string& headers : {std::string(), std::string(kWrong)}) {
      const std::string r = Get(server_->port(), path, headers);
      EXPECT_THAT(r, StartsWith("HTTP/1.1 401 Unauthorized")) << path;
      EXPECT_THAT(r, HasSubstr("WWW-Authenticate: Basic\r\n")) << path;
      EXPECT_THAT(r, Not(HasSubstr("gvisor_"))) << path;
      EXPECT_THAT(r, Not(HasSubstr("web-0"))) << path;
    }
  }
  const std::string metrics = Get(server_->port(), "/metrics", kGood);
  EXPECT_THAT(metrics, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(metrics, HasSubstr("gvisor_sandbox_pids{namespace=\"shop\",pod=\"web-0\""));
  EXPECT_THAT(Get(server_->port(), "/sandboxes?format=json", kGood), HasSubstr("\"web-0\""));
  EXPECT_THAT(Get(server_->port(), "/nope", kGood), StartsWith("HTTP/1.1 404"));
  // Kubelet probes cannot send credentials.
  const std::string health = Get(server_->port(), "/healthz");
  EXPECT_THAT(health, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(health, Not(HasSubstr("WWW-Authenticate")));
}

TEST_F(HttpAuthTest, ConfiguredHeadersOnEveryResponse) {
  for (const std::string& r :
       {Get(server_->port(), "/metrics", kGood), Get(server_->port(), "/metrics"),
        Get(server_->port(), "/healthz")}) {
    EXPECT_THAT(r, HasSubstr("X-Frame-Options: deny\r\n"));
    // The configured CSP replaces ours (one header, not two).
    EXPECT_THAT(r, HasSubstr("Content-Security-Policy: default-src 'self'\r\n"));
    EXPECT_THAT(r, Not(HasSubstr("style-src")));
    EXPECT_THAT(r, HasSubstr("X-Content-Type-Options: nosniff\r\n"));
  }
}

TEST(HttpTlsStartTest, UnusableCertificateFailsStartNamingTheConfig) {
  HttpOptions o;
  o.listen_address = "127.0.0.1:0";
  o.web.tls_enabled = true;
  o.web.tls.cert_file = "/nonexistent/server.crt";
  o.web.tls.key_file = "/nonexistent/server.key";
  o.web.source = "/etc/web.yml";
  HttpServer server(o, {}, nullptr);
  const Status s = server.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), StartsWith("web config /etc/web.yml: cannot read cert_file "
                                      "/nonexistent/server.crt"));
  EXPECT_EQ(server.port(), 0);
}

}  // namespace
}  // namespace gvisor_exporter
