#include "exporter/http/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <random>

#include "exporter/collectors/snapshot_collector.h"
#include "exporter/collectors/testing_gzip.h"
#include "exporter/collectors/testing_snapshot.h"

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Minimal HTTP/1.0 request over loopback; returns the raw response.
std::string Request(int port, const std::string& method, const std::string& path,
                    const std::string& headers) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: localhost\r\n" + headers + "\r\n";
  (void)::write(fd, req.data(), req.size());
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string Get(int port, const std::string& path, const std::string& headers = "") {
  return Request(port, "GET", path, headers);
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
        o, std::vector<std::shared_ptr<const Exposition>>{c},
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

TEST(AcceptsGzipTest, ParsesTheAcceptEncodingHeader) {
  for (const char* yes :
       {"gzip", "GZIP", "Gzip", "deflate, gzip;q=1.0", "gzip;q=0.5", "gzip ; Q=0.001", "x-gzip",
        "br,gzip", " , ,gzip, ", "gzip;q=1", "gzip;q=1.000", "gzip;level=9", "*", "br, *;q=0.1",
        "identity;q=0, gzip", "gzip;q=0.5, deflate;q=0", "\tgzip\t;\tq=0.8"}) {
    EXPECT_TRUE(AcceptsGzip(yes)) << yes;
  }
  for (const char* no : {"",
                         "identity",
                         "deflate",
                         "br, deflate",
                         "gzip;q=0",
                         "gzip;q=0.0",
                         "gzip;q=0.000",
                         "GZIP;Q=0",
                         "gzip;q=",
                         "gzip;q=2",
                         "gzip;q=1.5",
                         "gzip;q=0.0001",
                         "gzip;q=abc",
                         "gzip;q=-1",
                         "gzipx",
                         "xgzip",
                         "g zip",
                         "*;q=0",
                         "gzip;q=0, *",
                         "*, gzip;q=0",
                         "gzip, gzip;q=0",
                         "gzip;q=0.5;q=0",
                         "gzip;q=0 ;"}) {
    EXPECT_FALSE(AcceptsGzip(no)) << no;
  }
}

TEST(AcceptsGzipTest, SurvivesGarbage) {
  // Fragments that mean something to the parser, and arbitrary bytes.
  const std::vector<std::string> parts = {
      "gzip", "GZip", "x-gzip", "*", ";",  ",",   "q",   "Q",       "=",
      "0",    "1",    ".",      " ", "\t", "000", "0.5", "deflate", std::string(1, '\0'),
      "\xff", "\"",   "="};
  std::mt19937 rng(42);
  for (int i = 0; i < 100000; ++i) {
    std::string h;
    const int n = static_cast<int>(rng() % 12);
    for (int j = 0; j < n; ++j) {
      if (rng() % 4 == 0) {
        h += static_cast<char>(rng());
      } else {
        h += parts[rng() % parts.size()];
      }
    }
    const bool accepted = AcceptsGzip(h);
    EXPECT_EQ(accepted, AcceptsGzip(h)) << h;  // deterministic
    // Only a listed gzip or * can make it acceptable.
    std::string lower = h;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (accepted) {
      ASSERT_TRUE(lower.find("gzip") != std::string::npos || h.find('*') != std::string::npos) << h;
    }
  }
  EXPECT_FALSE(AcceptsGzip(std::string(1 << 20, ',')));
  EXPECT_TRUE(AcceptsGzip(std::string(1 << 20, ',') + "gzip"));
  EXPECT_FALSE(AcceptsGzip(std::string("gzip\0", 5)));
}

// The body of a raw response, and one of its headers ("" when absent).
std::string HeaderValue(const std::string& response, const std::string& name) {
  const std::string head = response.substr(0, response.find("\r\n\r\n"));
  const std::string key = "\r\n" + name + ": ";
  const size_t p = head.find(key);
  if (p == std::string::npos) return "";
  const size_t start = p + key.size();
  return head.substr(start, head.find("\r\n", start) - start);
}

std::string Inflate(const std::string& gz) {
  std::string out, why;
  EXPECT_TRUE(GunzipOneMember(gz, &out, &why)) << why;
  return out;
}

class HttpServerGzipTest : public HttpServerTest {
 protected:
  void SetUp() override {
    HttpServerTest::SetUp();
    // From the future: the age renders as 0, so two responses are equal.
    auto snap = std::make_shared<NodeSnapshot>(MakeTestSnapshot());
    snap->timestamp_seconds = 1e12;
    snap->poll_count = 8;
    store_.Publish(snap);
  }
};

TEST_F(HttpServerGzipTest, RespondCompressesTheTelemetryPathWhenAccepted) {
  const HttpResponse identity = server_->Respond({"/custom-metrics", "", "", ""});
  EXPECT_EQ(identity.content_encoding, "");
  const std::string text = identity.JoinedBody();
  EXPECT_EQ(identity.size(), text.size());
  EXPECT_THAT(text, HasSubstr("gvisor_sandbox_pids{"));
  for (const char* yes : {"gzip", "deflate, gzip;q=1.0", "GZIP"}) {
    const HttpResponse r = server_->Respond({"/custom-metrics", "", "", yes});
    EXPECT_EQ(r.code, 200);
    EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(r.content_encoding, "gzip") << yes;
    EXPECT_EQ(Inflate(r.JoinedBody()), text) << yes;
    EXPECT_LT(r.size(), text.size());
  }
  for (const char* no : {"gzip;q=0", "identity", ""}) {
    const HttpResponse r = server_->Respond({"/custom-metrics", "", "", no});
    EXPECT_EQ(r.content_encoding, "") << no;
    EXPECT_EQ(r.JoinedBody(), text) << no;
  }
  // Handle keeps its uncompressed semantics whatever the request accepts.
  std::string type, body;
  EXPECT_EQ(server_->Handle({"/custom-metrics", "", "", "gzip"}, &type, &body), 200);
  EXPECT_EQ(body, text);
  // Only the telemetry path is compressed.
  const HttpResponse page = server_->Respond({"/sandboxes", "format=json", "", "gzip"});
  EXPECT_EQ(page.content_encoding, "");
  EXPECT_THAT(page.JoinedBody(), HasSubstr("\"sb1\""));
}

TEST_F(HttpServerGzipTest, ServesGzipOverHttp) {
  const std::string identity = Get(server_->port(), "/custom-metrics");
  ASSERT_THAT(identity, StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(HeaderValue(identity, "Content-Encoding"), "");
  EXPECT_EQ(HeaderValue(identity, "Vary"), "Accept, Accept-Encoding");
  EXPECT_EQ(HeaderValue(identity, "Content-Length"), std::to_string(Body(identity).size()));

  for (const char* accept : {"gzip", "deflate, gzip;q=1.0", "GZIP"}) {
    const std::string r =
        Get(server_->port(), "/custom-metrics", std::string("Accept-Encoding: ") + accept + "\r\n");
    ASSERT_THAT(r, StartsWith("HTTP/1.1 200")) << accept;
    EXPECT_EQ(HeaderValue(r, "Content-Encoding"), "gzip") << accept;
    EXPECT_EQ(HeaderValue(r, "Vary"), "Accept, Accept-Encoding");
    EXPECT_EQ(HeaderValue(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(HeaderValue(r, "Content-Length"), std::to_string(Body(r).size()));
    EXPECT_EQ(Inflate(Body(r)), Body(identity)) << accept;
  }
  for (const char* accept : {"gzip;q=0", "identity"}) {
    const std::string r =
        Get(server_->port(), "/custom-metrics", std::string("Accept-Encoding: ") + accept + "\r\n");
    EXPECT_EQ(HeaderValue(r, "Content-Encoding"), "") << accept;
    EXPECT_EQ(Body(r), Body(identity)) << accept;
  }
  const std::string healthz = Get(server_->port(), "/healthz", "Accept-Encoding: gzip\r\n");
  EXPECT_EQ(HeaderValue(healthz, "Content-Encoding"), "");
  EXPECT_EQ(Body(healthz), "msg\n");
}

TEST_F(HttpServerGzipTest, HeadSendsTheHeadersOnly) {
  const std::string get = Get(server_->port(), "/custom-metrics", "Accept-Encoding: gzip\r\n");
  for (const std::string headers : {"", "Accept-Encoding: gzip\r\n"}) {
    const std::string head = Request(server_->port(), "HEAD", "/custom-metrics", headers);
    ASSERT_THAT(head, StartsWith("HTTP/1.1 200")) << headers;
    EXPECT_EQ(Body(head), "") << headers;
    EXPECT_EQ(HeaderValue(head, "Content-Encoding"), headers.empty() ? "" : "gzip");
    if (!headers.empty()) {
      EXPECT_EQ(HeaderValue(head, "Content-Length"), HeaderValue(get, "Content-Length"));
    } else {
      EXPECT_EQ(HeaderValue(head, "Content-Length"),
                std::to_string(Body(Get(server_->port(), "/custom-metrics")).size()));
    }
  }
  const std::string head = Request(server_->port(), "HEAD", "/healthz", "");
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200"));
  EXPECT_EQ(HeaderValue(head, "Content-Length"), "4");
  EXPECT_EQ(Body(head), "");
}

}  // namespace
}  // namespace gvisor_exporter
