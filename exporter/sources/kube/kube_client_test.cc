// The client against a real HTTPS server (testdata/fake_apiserver.py, with a
// CA and certificate made by openssl at test time): TLS verification, the
// bearer token re-read per request, HTTP errors, timeouts, the size cap and
// redirects.
#include "exporter/sources/kube/kube_client.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "exporter/sources/kube/kube_source.h"
#include "exporter/sources/kube/runtimeclass_list.h"
#include "exporter/testing/fixtures.h"
#include "exporter/testing/temp_dir.h"

extern char** environ;

namespace gvisor_exporter {
namespace {

using namespace std::chrono_literals;  // NOLINT(build/namespaces)
using ::gvisor_exporter::testing::FixturePath;
using ::gvisor_exporter::testing::TempDir;

class FakeApiServer {
 public:
  explicit FakeApiServer(const TempDir& dir) : dir_(dir) {
    dir_.Write("token", "token-1\n");
    const std::string testdata = FixturePath("exporter/sources/kube/testdata") + "/";
    std::vector<std::string> args = {
        "/usr/bin/python3", testdata + "fake_apiserver.py",      "--dir",        dir_.path(),
        "--body",           testdata + "runtimeclass_list.json", "--token-file", dir_.Sub("token")};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    for (int i = 0; i < 300 && !std::filesystem::exists(dir_.Sub("port")); ++i)
      std::this_thread::sleep_for(50ms);
    port_ = ::gvisor_exporter::testing::ReadFile(dir_.Sub("port"));
    EXPECT_FALSE(port_.empty()) << "fake API server did not start";
  }
  ~FakeApiServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void SetMode(const std::string& mode) { dir_.Write("mode", mode); }

  KubeClientOptions Options() const {
    KubeClientOptions o;
    o.server = "https://127.0.0.1:" + port_;
    o.ca_file = dir_.Sub("ca.crt");
    o.token_file = dir_.Sub("token");
    o.timeout = 2s;
    return o;
  }

 private:
  const TempDir& dir_;
  pid_t pid_ = -1;
  std::string port_;
};

class KubeClientTest : public ::testing::Test {
 protected:
  TempDir dir_{"gve-kube"};
  FakeApiServer server_{dir_};
};

TEST_F(KubeClientTest, GetsTheListWithTheTokenAndVerifiedTls) {
  KubeClient client(server_.Options());
  auto body = client.Get(kRuntimeClassesPath);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  auto list = ParseRuntimeClassList(*body);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->classes.size(), 4u);
  EXPECT_NE(::gvisor_exporter::testing::ReadFile(dir_.Sub("requests.log")).find("Bearer token-1"),
            std::string::npos);
}

TEST_F(KubeClientTest, TokenIsReReadAtEveryRequest) {
  KubeClient client(server_.Options());
  ASSERT_TRUE(client.Get(kRuntimeClassesPath).ok());
  // The kubelet rotates the projected token: the server now wants the new one.
  dir_.Write("token", "token-2");
  auto body = client.Get(kRuntimeClassesPath);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
}

TEST_F(KubeClientTest, HttpErrorsMapToReasons) {
  KubeClient client(server_.Options());
  const std::pair<const char*, Reason> cases[] = {{"401", Reason::kPermission},
                                                  {"403", Reason::kPermission},
                                                  {"500", Reason::kRemote},
                                                  {"redirect", Reason::kRemote}};
  for (const auto& [mode, reason] : cases) {
    server_.SetMode(mode);
    auto body = client.Get(kRuntimeClassesPath);
    ASSERT_FALSE(body.ok()) << mode;
    EXPECT_EQ(body.status().reason(), reason) << mode << ": " << body.status().ToString();
  }
  server_.SetMode("ok");
  EXPECT_EQ(client.Get("/api/nothing").status().reason(), Reason::kNotFound);
}

TEST_F(KubeClientTest, WrongTokenIsUnauthorized) {
  KubeClientOptions o = server_.Options();
  dir_.Write("other-token", "not-the-token");
  o.token_file = dir_.Sub("other-token");
  EXPECT_EQ(KubeClient(o).Get(kRuntimeClassesPath).status().reason(), Reason::kPermission);
  o.token_file = dir_.Sub("missing-token");
  EXPECT_EQ(KubeClient(o).Get(kRuntimeClassesPath).status().reason(), Reason::kNotFound);
  dir_.Write("evil-token", "a\r\nX-Injected: 1");
  o.token_file = dir_.Sub("evil-token");
  EXPECT_EQ(KubeClient(o).Get(kRuntimeClassesPath).status().reason(), Reason::kInvalid);
}

TEST_F(KubeClientTest, UntrustedServerIsRefused) {
  // A server whose certificate another CA signed...
  server_.SetMode("wrong-ca");
  auto body = KubeClient(server_.Options()).Get(kRuntimeClassesPath);
  EXPECT_EQ(body.status().reason(), Reason::kPermission) << body.status().ToString();
  // ...and a client trusting another CA than the server's.
  server_.SetMode("ok");
  KubeClientOptions o = server_.Options();
  o.ca_file = dir_.Sub("other-ca.crt");
  EXPECT_EQ(KubeClient(o).Get(kRuntimeClassesPath).status().reason(), Reason::kPermission);
  // The system store does not know the test CA either: verification is never off.
  o.ca_file = "";
  EXPECT_FALSE(KubeClient(o).Get(kRuntimeClassesPath).ok());
}

TEST_F(KubeClientTest, HangingServerTimesOut) {
  server_.SetMode("hang");
  KubeClientOptions o = server_.Options();
  o.timeout = 500ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto body = KubeClient(o).Get(kRuntimeClassesPath);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(body.status().reason(), Reason::kTimeout) << body.status().ToString();
  EXPECT_LT(took, 2s);
}

TEST_F(KubeClientTest, ResponseSizeIsCapped) {
  server_.SetMode("big");
  auto body = KubeClient(server_.Options()).Get(kRuntimeClassesPath);
  EXPECT_EQ(body.status().reason(), Reason::kTooLarge) << body.status().ToString();
}

TEST_F(KubeClientTest, ConnectionRefusedIsUnavailable) {
  KubeClientOptions o = server_.Options();
  o.server = "https://127.0.0.1:1";
  EXPECT_EQ(KubeClient(o).Get(kRuntimeClassesPath).status().reason(), Reason::kUnavailable);
}

TEST(ResolveApiServerTest, UrlsAndInCluster) {
  EXPECT_EQ(*ResolveApiServer("https://10.0.0.1:6443"), "https://10.0.0.1:6443");
  EXPECT_EQ(*ResolveApiServer("https://api.example.com/"), "https://api.example.com");
  for (const char* bad : {"http://10.0.0.1", "10.0.0.1:443", "https://", "https://a/b",
                          "https://a b", "https://user@host"}) {
    EXPECT_FALSE(ResolveApiServer(bad).ok()) << bad;
  }
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  EXPECT_EQ(*ResolveApiServer("in-cluster"), "https://10.96.0.1:443");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  EXPECT_EQ(*ResolveApiServer("in-cluster"), "https://[fd00::1]:443");
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_EQ(ResolveApiServer("in-cluster").status().reason(), Reason::kNotFound);
  unsetenv("KUBERNETES_SERVICE_PORT");
}

}  // namespace
}  // namespace gvisor_exporter
