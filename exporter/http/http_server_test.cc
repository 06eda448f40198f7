#include "exporter/http/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exporter/collectors/snapshot_collector.h"
#include "exporter/collectors/testing_snapshot.h"

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Minimal HTTP/1.0 GET over loopback; returns the raw response.
std::string Get(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.Publish(std::make_shared<NodeSnapshot>(MakeTestSnapshot()));
    auto c = std::make_shared<SnapshotCollector>(&store_, &errors_);
    HttpOptions o;
    o.listen_address = "127.0.0.1:0";
    o.telemetry_path = "/custom-metrics";
    server_ = std::make_unique<HttpServer>(
        o, std::vector<std::shared_ptr<prometheus::Collectable>>{c},
        [this] { return std::make_pair(healthy_, std::string("msg")); });
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
  }
  SnapshotStore store_;
  ErrorReporter errors_;
  bool healthy_ = true;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesMetricsAtTheTelemetryPath) {
  std::string r = Get(server_->port(), "/custom-metrics");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(r, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  EXPECT_THAT(r, HasSubstr("# TYPE gvisor_sandbox_memory_total_bytes gauge"));
  EXPECT_THAT(
      r, HasSubstr("gvisor_sandbox_pids{namespace=\"shop\",pod=\"web-0\",sandbox_id=\"sb1\"} 3"));
}

TEST_F(HttpServerTest, LandingPageLinksTheTelemetryPath) {
  std::string r = Get(server_->port(), "/");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(r, HasSubstr("<a href=\"/custom-metrics\">"));
  EXPECT_THAT(Get(server_->port(), "/nope"), StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(Get(server_->port(), "/metrics"), StartsWith("HTTP/1.1 404"));
}

TEST_F(HttpServerTest, HealthzReflectsTheHealthCheck) {
  EXPECT_THAT(Get(server_->port(), "/healthz"), StartsWith("HTTP/1.1 200"));
  healthy_ = false;
  EXPECT_THAT(Get(server_->port(), "/healthz"), StartsWith("HTTP/1.1 503"));
}

TEST(HttpServerAddressTest, TranslatesListenAddresses) {
  EXPECT_EQ(*CivetListeningPorts(":9787"), "9787");
  EXPECT_EQ(*CivetListeningPorts("127.0.0.1:9787"), "127.0.0.1:9787");
  EXPECT_EQ(*CivetListeningPorts("localhost:1"), "127.0.0.1:1");
  EXPECT_EQ(*CivetListeningPorts("[::1]:9787"), "[::1]:9787");
  EXPECT_FALSE(CivetListeningPorts("9787").ok());
  EXPECT_FALSE(CivetListeningPorts(":99999").ok());
  EXPECT_FALSE(CivetListeningPorts("evil.example:80").ok());
}

TEST(HttpServerAddressTest, PortInUseIsAClearError) {
  SnapshotStore store;
  ErrorReporter errors;
  auto c = std::make_shared<SnapshotCollector>(&store, &errors);
  HttpOptions o;
  o.listen_address = "127.0.0.1:0";
  HttpServer a(o, {c}, nullptr);
  ASSERT_TRUE(a.Start().ok());
  o.listen_address = "127.0.0.1:" + std::to_string(a.port());
  HttpServer b(o, {c}, nullptr);
  Status s = b.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("cannot listen"));
}

}  // namespace
}  // namespace gvisor_exporter
