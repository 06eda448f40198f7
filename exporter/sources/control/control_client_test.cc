#include "exporter/sources/control/control_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "exporter/sources/control/fake_urpc_server.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using std::chrono::milliseconds;
using testing::FakeUrpcServer;
using testing::ReadFixture;

// Plays runsc 20221219: Event takes {} (a string arg gets the real Go error).
bool Serve20221219(int fd, const nlohmann::json& req) {
  const std::string method = req.value("method", "");
  if (method == "containerManager.Event") {
    FakeUrpcServer::Send(
        fd,
        req["arg"].is_object()
            ? ReadFixture("exporter/sources/control/testdata/urpc-event-multi.json")
            : ReadFixture("exporter/sources/control/testdata/urpc-event-string-arg-error.json"));
  } else if (method == "Usage.Collect") {
    FakeUrpcServer::Send(fd,
                         req["arg"].value("Full", false)
                             ? ReadFixture("exporter/sources/control/testdata/urpc-usage-full.json")
                             : ReadFixture("exporter/sources/control/testdata/urpc-usage.json"));
  } else {
    FakeUrpcServer::Send(fd,
                         ReadFixture("exporter/sources/control/testdata/urpc-unknown-method.json"));
  }
  return true;
}

int unique_counter = 0;
std::string UniqueId() {
  return "gvetest" + std::to_string(getpid()) + "x" + std::to_string(unique_counter++);
}

SandboxInfo Sandbox(const std::string& id, const std::string& socket_path = "") {
  SandboxInfo sb;
  sb.root = "/run/gve-test-root";
  sb.id = id;
  sb.control_socket_path = socket_path;
  sb.containers.resize(2);
  sb.containers[0].id = id;
  sb.containers[0].is_pause = true;
  sb.containers[1].id = "cmapp";
  return sb;
}

ControlClientOptions FastBackoff(int initial_ms = 50) {
  ControlClientOptions o;
  o.backoff_initial = milliseconds(initial_ms);
  o.backoff_max = milliseconds(4 * initial_ms);
  return o;
}

TEST(ControlSocketClientTest, CollectOverRunscAbstractAddress) {
  const std::string id = UniqueId();
  FakeUrpcServer server(SocketAddress::ForRunscSandbox(id), Serve20221219);
  ControlSocketClient client;
  auto u = client.Collect(Sandbox(id), /*full_memory=*/true);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->path, StatsPath::kControlSocket);
  ASSERT_TRUE(u->memory.has_value());
  EXPECT_TRUE(u->memory->full);
  EXPECT_EQ(u->memory->total, 4042752u);
  EXPECT_EQ(u->memory->anonymous, 860160u);
  EXPECT_EQ(u->pids, 2u);
  const std::map<std::string, uint64_t> cpu = {{"cmapp", 350000000}, {"cmsb", 0}};
  EXPECT_EQ(u->container_cpu_ns, cpu);

  auto quick = client.Collect(Sandbox(id), false);
  ASSERT_TRUE(quick.ok());
  EXPECT_FALSE(quick->memory->full);
  EXPECT_EQ(quick->memory->unknown, 872448u);
  // One connection per Collect, closed at its end: an idle connection would
  // delay the sentry's shutdown by urpc's 15 s stop timeout.
  EXPECT_EQ(server.accepted(), 2);
  EXPECT_FALSE(client.connected(ControlSocketClient::Key(Sandbox(id))));
  for (int i = 0; i < 100 && server.open_connections() != 0; ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(server.open_connections(), 0);
}

TEST(ControlSocketClientTest, CollectOverSocketPathFromStateFile) {
  const std::string path =
      std::filesystem::temp_directory_path() / ("gve-ctl-" + std::to_string(getpid()) + ".sock");
  FakeUrpcServer server(SocketAddress::Path(path), Serve20221219);
  ControlSocketClient client;
  auto u = client.Collect(Sandbox(UniqueId(), path), false);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->memory->total, 4042752u);
}

// runsc >= 20230731: Event wants the container id string and counts pids per
// container.
TEST(ControlSocketClientTest, NewerRunscEventDialectIsLearnedAndPidsSummed) {
  const std::string id = UniqueId();
  FakeUrpcServer server(SocketAddress::ForRunscSandbox(id), [&](int fd, const nlohmann::json& req) {
    if (req["method"] != "containerManager.Event") return Serve20221219(fd, req);
    if (!req["arg"].is_string()) {
      FakeUrpcServer::SendError(fd, "json: cannot unmarshal object into Go value of type string");
      return true;
    }
    const std::string cid = req["arg"];
    if (cid == "stopped") {
      FakeUrpcServer::SendError(fd, "container stopped not found");
      return true;
    }
    nlohmann::json result = nlohmann::json::parse(
        ReadFixture("exporter/sources/control/testdata/urpc-event-multi.json"))["result"];
    result["event"]["id"] = cid;
    result["event"]["data"]["pids"]["current"] = cid == id ? 1 : 3;
    FakeUrpcServer::SendReply(fd, result);
    return true;
  });
  ControlSocketClient client;
  SandboxInfo sb = Sandbox(id);
  sb.containers.emplace_back().id = "stopped";
  for (int i = 0; i < 2; ++i) {
    auto u = client.Collect(sb, false);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    EXPECT_EQ(u->pids, 1u + 3u);
    EXPECT_EQ(u->container_cpu_ns.size(), 2u);
  }
  auto reqs = server.requests();
  // First Collect: {} refused, id accepted, then cmapp, stopped, Usage.Collect.
  ASSERT_EQ(reqs.size(), 5u + 4u);
  EXPECT_TRUE(reqs[0]["arg"].is_object());
  EXPECT_EQ(reqs[1]["arg"], id);
  EXPECT_EQ(reqs[5]["arg"], id);  // second Collect goes straight to the id form
  EXPECT_EQ(server.accepted(), 2);
}

TEST(ControlSocketClientTest, BackoffSkipsABrokenSocketThenRetries) {
  const std::string id = UniqueId();
  ControlSocketClient client(FastBackoff(100));
  auto first = client.Collect(Sandbox(id), false);
  EXPECT_EQ(first.status().reason(), Reason::kUnavailable);
  EXPECT_NE(first.status().message().find(id), std::string::npos);
  EXPECT_NE(first.status().message().find("runsc-sandbox."), std::string::npos);

  FakeUrpcServer server(SocketAddress::ForRunscSandbox(id), Serve20221219);
  auto skipped = client.Collect(Sandbox(id), false);
  EXPECT_EQ(skipped.status().reason(), Reason::kUnavailable);
  EXPECT_NE(skipped.status().message().find("skipped after 1 failure"), std::string::npos)
      << skipped.status().ToString();
  EXPECT_EQ(server.accepted(), 0);  // not even tried

  std::this_thread::sleep_for(milliseconds(120));
  EXPECT_TRUE(client.Collect(Sandbox(id), false).ok());
  EXPECT_TRUE(client.Collect(Sandbox(id), false).ok());  // success reset the backoff
}

TEST(ControlSocketClientTest, BackoffGrowsAndIsCapped) {
  const std::string id = UniqueId();
  ControlSocketClient client(FastBackoff(40));  // 40, 80, 160, then capped at 160
  for (int expected_wait_ms : {40, 80, 160, 160}) {
    ASSERT_FALSE(client.Collect(Sandbox(id), false).ok());
    std::this_thread::sleep_for(milliseconds(expected_wait_ms - 20));
    EXPECT_NE(client.Collect(Sandbox(id), false).status().message().find("skipped"),
              std::string::npos)
        << expected_wait_ms;
    std::this_thread::sleep_for(milliseconds(30));
  }
}

TEST(ControlSocketClientTest, RemoteErrorFailsCollectWithTheSentrysMessage) {
  const std::string id = UniqueId();
  FakeUrpcServer server(SocketAddress::ForRunscSandbox(id), [](int fd, const nlohmann::json& req) {
    if (req["method"] == "Usage.Collect") {
      FakeUrpcServer::Send(
          fd, ReadFixture("exporter/sources/control/testdata/urpc-usage-bad-arg.json"));
      return true;
    }
    return Serve20221219(fd, req);
  });
  ControlSocketClient client;
  auto u = client.Collect(Sandbox(id), false);
  EXPECT_EQ(u.status().reason(), Reason::kRemote);
  EXPECT_NE(u.status().message().find("MemoryUsageOpts"), std::string::npos);
}

TEST(ControlSocketClientTest, InvalidIdIsRejectedBeforeAnyIo) {
  ControlSocketClient client;
  EXPECT_EQ(client.Collect(Sandbox("../x"), false).status().reason(), Reason::kInvalid);
  EXPECT_EQ(client.pool_size(), 0u);
}

TEST(ControlSocketClientTest, RetainForgetsGoneSandboxes) {
  const std::string a = UniqueId(), b = UniqueId();
  FakeUrpcServer server_a(SocketAddress::ForRunscSandbox(a), Serve20221219);
  FakeUrpcServer server_b(SocketAddress::ForRunscSandbox(b), Serve20221219);
  ControlSocketClient client;
  ASSERT_TRUE(client.Collect(Sandbox(a), false).ok());
  ASSERT_TRUE(client.Collect(Sandbox(b), false).ok());
  EXPECT_EQ(client.pool_size(), 2u);
  client.Retain({ControlSocketClient::Key(Sandbox(a))});
  EXPECT_EQ(client.pool_size(), 1u);
  client.Retain({});
  EXPECT_EQ(client.pool_size(), 0u);
  // No connection was left open at any point after a Collect.
  for (int i = 0; i < 100 && server_a.open_connections() + server_b.open_connections() != 0; ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(server_a.open_connections(), 0);
  EXPECT_EQ(server_b.open_connections(), 0);
}

TEST(ControlSocketClientTest, ConcurrentCollectsOnDifferentAndSameSandboxes) {
  constexpr int kSandboxes = 4, kThreadsPerSandbox = 2, kCalls = 50;
  std::vector<std::string> ids;
  std::vector<std::unique_ptr<FakeUrpcServer>> servers;
  for (int i = 0; i < kSandboxes; ++i) {
    ids.push_back(UniqueId());
    servers.push_back(std::make_unique<FakeUrpcServer>(SocketAddress::ForRunscSandbox(ids.back()),
                                                       Serve20221219));
  }
  ControlSocketClient client;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(kSandboxes) * kThreadsPerSandbox);
  for (int t = 0; t < kSandboxes * kThreadsPerSandbox; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        auto u = client.Collect(Sandbox(ids[t % kSandboxes]), i % 2 == 0);
        if (!u.ok() || u->memory->total != 4042752u) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  // One connection per Collect (calls on one sandbox are serialized).
  for (const auto& s : servers) EXPECT_EQ(s->accepted(), kThreadsPerSandbox * kCalls);
}

TEST(ControlSocketClientTest, AddressChangeReplacesTheConnection) {
  const std::string id = UniqueId();
  const std::string path = std::filesystem::temp_directory_path() /
                           ("gve-ctl-chg-" + std::to_string(getpid()) + ".sock");
  FakeUrpcServer abstract(SocketAddress::ForRunscSandbox(id), Serve20221219);
  FakeUrpcServer by_path(SocketAddress::Path(path), Serve20221219);
  ControlSocketClient client;
  ASSERT_TRUE(client.Collect(Sandbox(id), false).ok());
  ASSERT_TRUE(client.Collect(Sandbox(id, path), false).ok());
  EXPECT_EQ(client.pool_size(), 1u);
  EXPECT_EQ(by_path.accepted(), 1);
}

}  // namespace
}  // namespace gvisor_exporter
