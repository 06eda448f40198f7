// Fault tests of UrpcConnection against real sockets (FakeUrpcServer).
#include "exporter/sources/control/urpc_client.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "exporter/sources/control/fake_urpc_server.h"
#include "exporter/testing/fixtures.h"
#include "exporter/testing/open_fds.h"

namespace gvisor_exporter {
namespace {

using std::chrono::milliseconds;
using testing::CountOpenFds;
using testing::FakeUrpcServer;
using testing::ReadFixture;
using Clock = std::chrono::steady_clock;

const char kUsageFixture[] = "exporter/sources/control/testdata/urpc-usage.json";

UrpcOptions Opts(int timeout_ms = 1000, size_t max = 1 << 20) {
  UrpcOptions o;
  o.call_timeout = milliseconds(timeout_ms);
  o.max_reply_bytes = max;
  return o;
}

// Answers every request with the recorded Usage.Collect reply.
bool ServeUsage(int fd, const nlohmann::json&) {
  FakeUrpcServer::Send(fd, ReadFixture(kUsageFixture));
  return true;
}

TEST(UrpcConnectionTest, RealReplyOverAbstractSocketAndConnectionReuse) {
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(), ServeUsage);
  UrpcConnection conn(server.address(), Opts());
  for (int i = 0; i < 3; ++i) {
    auto r = conn.Call("Usage.Collect", {{"Full", false}});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)["Total"], 4042752);
  }
  EXPECT_EQ(server.accepted(), 1);  // one persistent connection
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0], nlohmann::json::parse(R"({"method":"Usage.Collect","arg":{"Full":false}})"));
}

TEST(UrpcConnectionTest, PathSocketIncludingOneLongerThanSunPath) {
  auto dir = std::filesystem::temp_directory_path() /
             ("gve-urpc-" + std::to_string(getpid()) + "-" + std::string(90, 'd'));
  std::filesystem::create_directories(dir);
  for (const char* name : {"s.sock", "runsc-sandbox-with-a-long-name.sock"}) {
    const std::string path = (dir / name).string();
    const std::string short_path = "/tmp/gve-urpc-" + std::to_string(getpid()) + ".sock";
    const bool is_long = path.size() >= 108;
    FakeUrpcServer server(SocketAddress::Path(is_long ? short_path : path), ServeUsage);
    // bind() cannot take the long path either: move the socket file there.
    if (is_long) std::filesystem::rename(short_path, path);
    UrpcConnection conn(SocketAddress::Path(path), Opts());
    auto r = conn.Call("Usage.Collect", {{"Full", false}});
    EXPECT_TRUE(r.ok()) << path.size() << " " << r.status().ToString();
    std::filesystem::remove(path);
  }
  std::filesystem::remove_all(dir);
}

TEST(UrpcConnectionTest, NoListener) {
  UrpcConnection abstract(FakeUrpcServer::UniqueAbstractAddress(), Opts());
  auto r = abstract.Call("Usage.Collect", {});
  EXPECT_EQ(r.status().reason(), Reason::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("@gve-test-"), std::string::npos);
  EXPECT_FALSE(abstract.connected());

  UrpcConnection path(SocketAddress::Path("/nonexistent-gve/runsc-x.sock"), Opts());
  EXPECT_EQ(path.Call("Usage.Collect", {}).status().reason(), Reason::kNotFound);
}

TEST(UrpcConnectionTest, AcceptsButNeverAnswersTimesOutAtTheDeadline) {
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(),
                        [](int, const nlohmann::json&) { return true; });
  UrpcConnection conn(server.address(), Opts(200));
  const auto start = Clock::now();
  auto r = conn.Call("Usage.Collect", {});
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(r.status().reason(), Reason::kTimeout) << r.status().ToString();
  EXPECT_GE(elapsed, milliseconds(200));
  EXPECT_LT(elapsed, milliseconds(260));
  EXPECT_FALSE(conn.connected());
}

TEST(UrpcConnectionTest, GarbageIsAParseErrorAndTheNextCallReconnects) {
  int calls = 0;
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(),
                        [&](int fd, const nlohmann::json& req) {
                          if (calls++ == 0) {
                            FakeUrpcServer::Send(fd, "HTTP/1.0 400 Bad Request\r\n\r\n");
                            return true;
                          }
                          return ServeUsage(fd, req);
                        });
  UrpcConnection conn(server.address(), Opts());
  auto r = conn.Call("Usage.Collect", {});
  EXPECT_EQ(r.status().reason(), Reason::kParse) << r.status().ToString();
  EXPECT_FALSE(conn.connected());
  EXPECT_TRUE(conn.Call("Usage.Collect", {}).ok());
  EXPECT_EQ(server.accepted(), 2);
}

TEST(UrpcConnectionTest, MalformedJsonInsideBracesIsAParseError) {
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(), [](int fd, const nlohmann::json&) {
    FakeUrpcServer::Send(fd, R"({"success":tru})");
    return true;
  });
  UrpcConnection conn(server.address(), Opts());
  EXPECT_EQ(conn.Call("m", {}).status().reason(), Reason::kParse);
}

TEST(UrpcConnectionTest, TrailingBytesAfterTheReplyAreAParseError) {
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(), [](int fd, const nlohmann::json&) {
    FakeUrpcServer::Send(fd, R"({"success":true,"result":1}{"success":true})");
    return true;
  });
  UrpcConnection conn(server.address(), Opts());
  EXPECT_EQ(conn.Call("m", {}).status().reason(), Reason::kParse);
}

TEST(UrpcConnectionTest, MegabytesOfReplyAreTooLargeWithoutBufferingThemAll) {
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(), [](int fd, const nlohmann::json&) {
    FakeUrpcServer::Send(fd, R"({"success":true,"result":")");
    const std::string block(size_t{64} * 1024, 'a');
    for (int i = 0; i < 64; ++i) FakeUrpcServer::Send(fd, block);  // 4 MiB, never closed
    return true;
  });
  UrpcConnection conn(server.address(), Opts(2000, size_t{256} * 1024));
  const auto start = Clock::now();
  auto r = conn.Call("m", {});
  EXPECT_EQ(r.status().reason(), Reason::kTooLarge) << r.status().ToString();
  EXPECT_LT(Clock::now() - start, milliseconds(1000));
}

TEST(UrpcConnectionTest, DeeplyNestedReplyIsRejectedEarly) {
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(), [](int fd, const nlohmann::json&) {
    FakeUrpcServer::Send(fd, R"({"success":true,"result":)" + std::string(100000, '['));
    return true;
  });
  UrpcConnection conn(server.address(), Opts());
  EXPECT_EQ(conn.Call("m", {}).status().reason(), Reason::kTooLarge);
}

TEST(UrpcConnectionTest, SuccessFalseIsRemoteAndKeepsTheConnection) {
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(), [](int fd, const nlohmann::json&) {
    FakeUrpcServer::Send(fd,
                         ReadFixture("exporter/sources/control/testdata/urpc-unknown-method.json"));
    return true;
  });
  UrpcConnection conn(server.address(), Opts());
  auto r = conn.Call("No.Such", {});
  EXPECT_EQ(r.status().reason(), Reason::kRemote);
  EXPECT_NE(r.status().message().find("unknown method"), std::string::npos);
  EXPECT_TRUE(conn.connected());
  EXPECT_EQ(conn.Call("No.Such", {}).status().reason(), Reason::kRemote);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(UrpcConnectionTest, PeerClosesMidReply) {
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(), [](int fd, const nlohmann::json&) {
    FakeUrpcServer::Send(fd, ReadFixture(kUsageFixture).substr(0, 40));
    return false;  // close
  });
  UrpcConnection conn(server.address(), Opts());
  auto r = conn.Call("m", {});
  EXPECT_EQ(r.status().reason(), Reason::kUnavailable);
  EXPECT_NE(r.status().message().find("mid-reply after 40 bytes"), std::string::npos);
}

TEST(UrpcConnectionTest, PeerClosesWithoutReplying) {
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(),
                        [](int, const nlohmann::json&) { return false; });
  UrpcConnection conn(server.address(), Opts());
  EXPECT_EQ(conn.Call("m", {}).status().reason(), Reason::kUnavailable);
}

TEST(UrpcConnectionTest, ManyTinyChunksWork) {
  const std::string reply = ReadFixture("exporter/sources/control/testdata/urpc-event-multi.json");
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(),
                        [&](int fd, const nlohmann::json&) {
                          for (char c : reply) {
                            FakeUrpcServer::Send(fd, std::string(1, c));
                            std::this_thread::sleep_for(std::chrono::microseconds(100));
                          }
                          return true;
                        });
  UrpcConnection conn(server.address(), Opts(5000));
  auto r = conn.Call("containerManager.Event", nlohmann::json::object());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["containerUsage"]["cmapp"], 350000000);
}

TEST(UrpcConnectionTest, UnexpectedFdsAreClosed) {
  // 20 fds: more than the client's control buffer holds, too. Opened up front
  // so the server thread's own fds do not change the count.
  std::vector<int> fds;
  fds.reserve(20);
  for (int i = 0; i < 20; ++i) fds.push_back(open("/dev/null", O_RDONLY | O_CLOEXEC));
  FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(),
                        [&](int fd, const nlohmann::json&) {
                          FakeUrpcServer::SendWithFds(fd, ReadFixture(kUsageFixture), fds);
                          return true;
                        });
  UrpcConnection conn(server.address(), Opts());
  ASSERT_TRUE(conn.Call("m", {}).ok());  // connection (and server side) now open
  const int before = CountOpenFds();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(conn.Call("m", {}).ok());
  EXPECT_EQ(CountOpenFds(), before);
  for (int f : fds) close(f);
}

TEST(UrpcConnectionTest, FailuresDoNotLeakFds) {
  const int before = CountOpenFds();
  {
    FakeUrpcServer server(FakeUrpcServer::UniqueAbstractAddress(),
                          [](int fd, const nlohmann::json&) {
                            FakeUrpcServer::Send(fd, "garbage");
                            return true;
                          });
    UrpcConnection conn(server.address(), Opts());
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(conn.Call("m", {}).ok());
    UrpcConnection refused(FakeUrpcServer::UniqueAbstractAddress(), Opts());
    for (int i = 0; i < 5; ++i) EXPECT_FALSE(refused.Call("m", {}).ok());
  }
  EXPECT_EQ(CountOpenFds(), before);
}

TEST(SocketAddressTest, RunscAbstractNameKeepsItsTrailingNul) {
  SocketAddress a = SocketAddress::ForRunscSandbox("abc");
  EXPECT_TRUE(a.is_abstract());
  EXPECT_EQ(a.name(), std::string("runsc-sandbox.abc\0", 18));
  EXPECT_EQ(a.ToString(), "@runsc-sandbox.abc@");
  EXPECT_EQ(SocketAddress::Path("/run/x.sock").ToString(), "/run/x.sock");
}

}  // namespace
}  // namespace gvisor_exporter
