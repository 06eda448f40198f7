#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "exporter/doctor/checks.h"
#include "exporter/doctor/test_util.h"

namespace gvisor_exporter::doctor {
namespace {

using testing::FixturePath;
using testing::TempDir;
using namespace std::chrono_literals;

constexpr char kRealRoot[] = "exporter/sources/runsc_state/testdata/real_root";
constexpr char kRealProc[] = "exporter/sources/runsc_state/testdata/real_proc";

TEST(CheckRootsTest, ParentsRootsAndAbsent) {
  TempDir dir("gve-doctor");
  dir.MakeDir("parent/k8s.io");
  dir.MakeDir("parent/moby");
  dir.Write("parent/stray-file", "");
  dir.MakeDir("explicit");
  std::vector<std::string> found;
  CheckResult r = CheckRoots(
      {{dir.Sub("explicit"), dir.Sub("absent")}, {dir.Sub("parent"), dir.Sub("no-parent")}},
      &found);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.detail;
  EXPECT_EQ(found, (std::vector<std::string>{dir.Sub("explicit"), dir.Sub("parent/k8s.io"),
                                             dir.Sub("parent/moby")}));
  EXPECT_EQ(r.data["absent"].size(), 2u);
}

TEST(CheckRootsTest, NoneFoundWarns) {
  TempDir dir("gve-doctor");
  std::vector<std::string> found;
  CheckResult r = CheckRoots({{dir.Sub("a")}, {dir.Sub("b")}}, &found);
  EXPECT_EQ(r.status, CheckStatus::kWarn);
  EXPECT_NE(r.detail.find("no runsc root exists"), std::string::npos) << r.detail;
}

TEST(CheckRootsTest, RootThatIsAFileOrBelowAFileFails) {
  // Root bypasses DAC, so "unreadable" is made with paths the kernel refuses
  // for everyone: a regular file, and a directory below a regular file.
  TempDir dir("gve-doctor");
  dir.Write("file", "x");
  for (const std::string& root : {dir.Sub("file"), dir.Sub("file/k8s.io")}) {
    std::vector<std::string> found;
    CheckResult r = CheckRoots({{root}, {}}, &found);
    EXPECT_EQ(r.status, CheckStatus::kFail) << root;
    EXPECT_NE(r.detail.find("is not a directory"), std::string::npos) << r.detail;
    CheckResult as_parent = CheckRoots({{}, {root}}, &found);
    EXPECT_EQ(as_parent.status, CheckStatus::kFail) << root;
  }
}

TEST(CheckRootsTest, SymlinkBelowParentWarns) {
  TempDir dir("gve-doctor");
  dir.MakeDir("parent/k8s.io");
  dir.MakeDir("elsewhere");
  ASSERT_EQ(::symlink(dir.Sub("elsewhere").c_str(), dir.Sub("parent/evil").c_str()), 0);
  std::vector<std::string> found;
  CheckResult r = CheckRoots({{}, {dir.Sub("parent")}}, &found);
  EXPECT_EQ(r.status, CheckStatus::kWarn);
  EXPECT_NE(r.detail.find("evil is a symlink"), std::string::npos) << r.detail;
  EXPECT_EQ(found, std::vector<std::string>{dir.Sub("parent/k8s.io")});
}

TEST(CheckSandboxesTest, RealCapturedRootAndProc) {
  RunscInfo runsc{"/usr/bin/runsc", "0.0~20221219.0", 20221219};
  std::vector<LiveSandbox> sandboxes;
  CheckResult r =
      CheckSandboxes({{FixturePath(kRealRoot)}, {}}, FixturePath(kRealProc), runsc, &sandboxes);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.detail;
  ASSERT_EQ(sandboxes.size(), 1u);
  EXPECT_EQ(sandboxes[0].info.id, "gvst-pod1");
  EXPECT_EQ(sandboxes[0].platform.platform, "ptrace");  // the 20221219 default
  EXPECT_EQ(r.data["count"], 1);
  const nlohmann::json& sb = r.data["sandboxes"][0];
  EXPECT_EQ(sb["id"], "gvst-pod1");
  EXPECT_EQ(sb["pod"], "state-pod");
  EXPECT_EQ(sb["namespace"], "gve-ns");
  EXPECT_EQ(sb["containers"], nlohmann::json({"gvst-pod1", "gvst-app1"}));
  EXPECT_EQ(r.detail, "1 live sandbox(es): gvst-pod1");
}

TEST(CheckSandboxesTest, StaleAndGarbledFiles) {
  RunscInfo runsc;
  TempDir dir("gve-doctor");
  dir.CopyTree(FixturePath(kRealRoot), "root");
  // /proc without the sentry: the state files are stale.
  dir.MakeDir("proc");
  std::vector<LiveSandbox> sandboxes;
  CheckResult stale = CheckSandboxes({{dir.Sub("root")}, {}}, dir.Sub("proc"), runsc, &sandboxes);
  EXPECT_EQ(stale.status, CheckStatus::kOk) << stale.detail;
  EXPECT_TRUE(sandboxes.empty());
  EXPECT_NE(stale.detail.find("stale state file"), std::string::npos) << stale.detail;

  dir.Write("root/bad_sandbox:bad.state", "{garbled");
  CheckResult garbled =
      CheckSandboxes({{dir.Sub("root")}, {}}, FixturePath(kRealProc), runsc, &sandboxes);
  EXPECT_EQ(garbled.status, CheckStatus::kWarn) << garbled.detail;
  EXPECT_NE(garbled.detail.find("bad_sandbox:bad.state"), std::string::npos) << garbled.detail;
  EXPECT_EQ(sandboxes.size(), 1u);
}

// A one-shot urpc server: answers the first request with success.
class OneReplyServer {
 public:
  explicit OneReplyServer(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    thread_ = std::thread([this] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      const ssize_t n = ::read(c, buf, sizeof(buf));
      request_ = n > 0 ? std::string(buf, n) : "";
      const std::string reply = R"({"success":true,"err":"","result":{}})";
      (void)::write(c, reply.data(), reply.size());
      ::close(c);
    });
  }
  ~OneReplyServer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  const std::string& request() const { return request_; }

 private:
  int fd_ = -1;
  std::thread thread_;
  std::string request_;
};

TEST(CheckControlSocketsTest, ReachableAndUnreachable) {
  TempDir dir("gve-doctor");
  EXPECT_EQ(CheckControlSockets({}, 500ms).status, CheckStatus::kOk);

  LiveSandbox sb;
  sb.info.id = "sb1";
  sb.info.control_socket_path = dir.Sub("runsc-sb1.sock");
  {
    OneReplyServer server(sb.info.control_socket_path);
    CheckResult ok = CheckControlSockets({sb}, 2s);
    EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.detail;
    EXPECT_EQ(ok.data["sockets"][0]["reachable"], true);
  }
  LiveSandbox gone = sb;
  gone.info.control_socket_path = dir.Sub("missing.sock");
  CheckResult warn = CheckControlSockets({gone}, 500ms);
  EXPECT_EQ(warn.status, CheckStatus::kWarn);
  EXPECT_EQ(warn.data["sockets"][0]["reachable"], false);
  EXPECT_NE(warn.detail.find("1 of 1 unreachable"), std::string::npos) << warn.detail;
}

}  // namespace
}  // namespace gvisor_exporter::doctor
