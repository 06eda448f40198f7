// RootScanner against a REAL runsc sandbox (pause + one subcontainer carrying
// CRI annotations) under a private root. Needs root and runsc (skipped
// otherwise; CI has both). Commands are spawned directly, never via a shell.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exporter/sources/runsc_state/proc_check.h"
#include "exporter/sources/runsc_state/root_scanner.h"
#include "exporter/sources/runsc_state/test_util.h"

extern char** environ;

namespace gvisor_exporter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

bool InPath(const std::string& name) {
  const char* path = ::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    if (::access((dirs.substr(start, end - start) + "/" + name).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs argv with stdin=/dev/null and stdout/stderr in files (runsc run
// --detach would keep inherited pipes open), killing it after `timeout`.
RunResult RunCommand(const std::vector<std::string>& argv, const std::string& log_prefix,
                     std::chrono::seconds timeout = 60s) {
  const std::string out = log_prefix + ".out", err = log_prefix + ".err";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  RunResult r;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);  // our own child, by pid
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(10ms);
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = testing::ReadFile(out);
  r.err = testing::ReadFile(err);
  return r;
}

class RealRunscTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || !InPath("runsc")) GTEST_SKIP() << "needs root and runsc";
    ASSERT_TRUE(fs::exists("/bin/busybox")) << "install busybox-static";
    const std::string tag = "gvst-" + std::to_string(::getpid());
    sandbox_id_ = tag + "-pod";
    container_id_ = tag + "-app";
    root_ = tmp_.MakeDir("root");
  }

  void TearDown() override {
    // Kill what we started, by pid, and only if it is still our runsc process.
    for (int64_t pid : pids_) {
      auto cmdline = testing::ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
      if (cmdline.find("--root=" + root_) != std::string::npos) ::kill(pid, SIGKILL);
    }
    for (const std::string& id : {container_id_, sandbox_id_}) {
      if (!id.empty()) Runsc({"delete", "-force", id}, "delete-" + id);
    }
    // runsc removes the cgroups it created; remove any leftovers, deepest first.
    for (const auto& ctl : fs::directory_iterator("/sys/fs/cgroup")) {
      const fs::path base = ctl.path() / "gve-state-test";
      ::rmdir((base / sandbox_id_ / container_id_).c_str());
      ::rmdir((base / sandbox_id_).c_str());
      ::rmdir(base.c_str());  // fails harmlessly while another run uses it
    }
  }

  RunResult Runsc(std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(), {"runsc", "--root", root_});
    return RunCommand(args, tmp_.Sub(log));
  }

  // A busybox bundle running `sleep 1000`, with CRI annotations.
  std::string MakeBundle(const std::string& name, const json& annotations,
                         const std::string& cgroups_path) {
    const std::string bundle = tmp_.MakeDir(name);
    fs::create_directories(bundle + "/rootfs/bin");
    fs::copy_file("/bin/busybox", bundle + "/rootfs/bin/busybox");
    fs::create_symlink("busybox", bundle + "/rootfs/bin/sh");
    fs::create_symlink("busybox", bundle + "/rootfs/bin/sleep");
    RunResult spec = RunCommand({"runsc", "spec", "-bundle", bundle, "--", "/bin/sleep", "1000"},
                                tmp_.Sub(name + "-spec"));
    EXPECT_EQ(spec.exit_code, 0) << spec.err;
    json config = json::parse(testing::ReadFile(bundle + "/config.json"));
    config["process"]["terminal"] = false;
    config["annotations"] = annotations;
    config["linux"]["cgroupsPath"] = cgroups_path;
    testing::WriteFile(bundle + "/config.json", config.dump(2));
    return bundle;
  }

  json PodAnnotations(const std::string& type) const {
    return {{"io.kubernetes.cri.container-type", type},
            {"io.kubernetes.cri.sandbox-id", sandbox_id_},
            {"io.kubernetes.cri.sandbox-name", "real-pod"},
            {"io.kubernetes.cri.sandbox-namespace", "real-ns"},
            {"io.kubernetes.cri.sandbox-uid", "8d4f0c1e-real-uid"}};
  }

  void StartPod() {
    const std::string b1 =
        MakeBundle("bundle-pod", PodAnnotations("sandbox"), "/gve-state-test/" + sandbox_id_);
    json sub = PodAnnotations("container");
    sub["io.kubernetes.cri.container-name"] = "worker";
    const std::string b2 =
        MakeBundle("bundle-app", sub, "/gve-state-test/" + sandbox_id_ + "/" + container_id_);
    RunResult run =
        Runsc({"--network=none", "run", "--detach", "--bundle", b1, sandbox_id_}, "run");
    ASSERT_EQ(run.exit_code, 0) << run.err;
    RunResult create = Runsc({"--network=none", "create", "--bundle", b2, container_id_}, "create");
    ASSERT_EQ(create.exit_code, 0) << create.err;
    RunResult start = Runsc({"start", container_id_}, "start");
    ASSERT_EQ(start.exit_code, 0) << start.err;
  }

  json List() {
    RunResult list = Runsc({"list", "-format=json"}, "list");
    EXPECT_EQ(list.exit_code, 0) << list.err;
    return json::parse(list.out, nullptr, /*allow_exceptions=*/false);
  }

  bool IsSentryPidLive(int64_t pid) const { return CheckSentry("/proc", pid, sandbox_id_).ok(); }

  ScanResult Scan() {
    RootScannerOptions o;
    o.roots = {root_};
    o.root_parents = {};
    return RootScanner(o, &reporter_).Scan();
  }

  testing::TempDir tmp_;
  std::string root_, sandbox_id_, container_id_;
  std::vector<int64_t> pids_;  // sentry and gofers, for TearDown
  ErrorReporter reporter_;
};

TEST_F(RealRunscTest, ScanMatchesRunscListAndDropsKilledSandbox) {
  ASSERT_NO_FATAL_FAILURE(StartPod());
  const json list = List();
  ASSERT_TRUE(list.is_array()) << list.dump();
  std::set<std::string> listed_ids;
  int64_t listed_pid = 0;
  for (const json& c : list) {
    listed_ids.insert(c.value("id", ""));
    if (c.value("id", "") == sandbox_id_) listed_pid = c.value("pid", int64_t{0});
  }
  ASSERT_GT(listed_pid, 0);
  pids_.push_back(listed_pid);

  ScanResult r = Scan();
  EXPECT_TRUE(r.success);
  ASSERT_EQ(r.sandboxes.size(), 1u) << "errors: " << testing::TotalErrors(reporter_);
  const SandboxInfo& sb = r.sandboxes[0];
  for (const ContainerInfo& c : sb.containers) pids_.push_back(c.gofer_pid);
  EXPECT_EQ(sb.id, sandbox_id_);
  EXPECT_EQ(sb.pid, listed_pid);
  EXPECT_GT(sb.pid_start_time, 0u);
  EXPECT_EQ(sb.pod_name, "real-pod");
  EXPECT_EQ(sb.pod_namespace, "real-ns");
  EXPECT_EQ(sb.pod_uid, "8d4f0c1e-real-uid");
  EXPECT_EQ(sb.cgroup.path, "/gve-state-test/" + sandbox_id_);
  std::set<std::string> scanned_ids;
  for (const ContainerInfo& c : sb.containers) {
    scanned_ids.insert(c.id);
    EXPECT_GT(c.gofer_pid, 0) << c.id;
    EXPECT_TRUE(IsGoferAlive("/proc", c.gofer_pid)) << c.id;
  }
  EXPECT_EQ(scanned_ids, listed_ids);
  ASSERT_EQ(sb.containers.size(), 2u);
  EXPECT_EQ(sb.containers[0].id, sandbox_id_);
  EXPECT_EQ(sb.containers[1].name, "worker");

  // Kill the sentry: its state files stay behind ("running"), liveness drops them.
  ASSERT_EQ(::kill(static_cast<pid_t>(listed_pid), SIGKILL), 0);
  for (int i = 0; i < 500 && IsSentryPidLive(listed_pid); ++i) std::this_thread::sleep_for(10ms);
  const uint64_t stale_before = testing::ErrorCount(reporter_, "not_found");
  r = Scan();
  EXPECT_TRUE(r.sandboxes.empty());
  // runsc 20221219 leaves the state files behind: then the drop was liveness.
  if (fs::exists(root_ + "/" + testing::StateFileName(sandbox_id_, sandbox_id_))) {
    EXPECT_EQ(testing::ErrorCount(reporter_, "not_found"), stale_before + 1);
  }
}

}  // namespace
}  // namespace gvisor_exporter
