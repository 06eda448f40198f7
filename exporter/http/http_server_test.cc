#include "exporter/http/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "exporter/collectors/snapshot_collector.h"
#include "exporter/collectors/testing_snapshot.h"

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Minimal HTTP/1.0 GET over loopback; returns the raw response.
std::string Get(int port, const std::string& path, const std::string& headers = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n" + headers + "\r\n";
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
        [this] { return std::make_pair(healthy_, std::string("msg")); }, &store_);
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
  EXPECT_THAT(r, HasSubstr("<a href=\"/sandboxes\">"));
  EXPECT_THAT(r, HasSubstr("<a href=\"/sandboxes?format=json\">"));
  EXPECT_THAT(Get(server_->port(), "/nope"), StartsWith("HTTP/1.1 404"));
  EXPECT_THAT(Get(server_->port(), "/metrics"), StartsWith("HTTP/1.1 404"));
}

TEST_F(HttpServerTest, HealthzReflectsTheHealthCheck) {
  EXPECT_THAT(Get(server_->port(), "/healthz"), StartsWith("HTTP/1.1 200"));
  healthy_ = false;
  EXPECT_THAT(Get(server_->port(), "/healthz"), StartsWith("HTTP/1.1 503"));
}

// The body of a raw response.
std::string Body(const std::string& response) {
  const size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

TEST_F(HttpServerTest, SandboxesPageIsHtmlByDefault) {
  for (const std::string headers :
       {"", "Accept: */*\r\n",
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"}) {
    std::string r = Get(server_->port(), "/sandboxes", headers);
    EXPECT_THAT(r, StartsWith("HTTP/1.1 200"));
    EXPECT_THAT(r, HasSubstr("Content-Type: text/html; charset=utf-8"));
    EXPECT_THAT(r, HasSubstr("Content-Security-Policy: default-src 'none'"));
    EXPECT_THAT(r, HasSubstr("Vary: Accept"));
    EXPECT_THAT(
        r,
        HasSubstr("<td class=\"w\">web-0</td><td class=\"w\">shop</td><td class=\"id\">sb1</td>"));
  }
  EXPECT_THAT(Get(server_->port(), "/sandboxes?format=html", "Accept: application/json\r\n"),
              HasSubstr("<td class=\"w\">web-0</td>"));
}

TEST_F(HttpServerTest, SandboxesAsJsonByQueryOrAcceptHeader) {
  for (const auto& [path, headers] : std::vector<std::pair<std::string, std::string>>{
           {"/sandboxes?format=json", ""},
           {"/sandboxes?x=1&format=json", "Accept: text/html\r\n"},
           {"/sandboxes", "Accept: application/json\r\n"},
           {"/sandboxes", "Accept: application/json, text/html;q=0.5\r\n"}}) {
    std::string r = Get(server_->port(), path, headers);
    EXPECT_THAT(r, StartsWith("HTTP/1.1 200")) << path << headers;
    EXPECT_THAT(r, HasSubstr("Content-Type: application/json\r\n"));
    auto j = nlohmann::json::parse(Body(r), nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r;
    ASSERT_EQ(j["sandboxes"].size(), 1u);
    EXPECT_EQ(j["sandboxes"][0]["sandbox_id"], "sb1");
    EXPECT_EQ(j["snapshot"]["poll_count"], 7u);
  }
  EXPECT_THAT(Get(server_->port(), "/sandboxes?format=xml"), StartsWith("HTTP/1.1 400"));
}

TEST_F(HttpServerTest, SandboxesBeforeTheFirstPoll) {
  store_.Publish(nullptr);
  std::string type, body;
  EXPECT_EQ(server_->Handle({"/sandboxes", "format=json", ""}, &type, &body), 200);
  EXPECT_EQ(body, "{\"sandboxes\":[],\"snapshot\":null}\n");
  EXPECT_EQ(server_->Handle({"/sandboxes", "", ""}, &type, &body), 200);
  EXPECT_THAT(body, HasSubstr("first poll is in progress"));
}

TEST(HttpServerNoStoreTest, NoSnapshotStoreMeansNoSandboxesPage) {
  HttpServer server({"127.0.0.1:0", "/metrics", 1}, {}, nullptr);
  std::string type, body;
  EXPECT_EQ(server.Handle({"/sandboxes", "", ""}, &type, &body), 404);
  EXPECT_EQ(server.Handle({"/", "", ""}, &type, &body), 200);
  EXPECT_THAT(body, ::testing::Not(HasSubstr("/sandboxes")));
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
