// Starts and removes one real runsc sandbox for tests (header-only: only
// *_test.cc files are compiled into host_test). Needs root and runsc.
//
// The sandbox runs busybox `sleep 1000` with --network=none in cgroup
// /gve-host-test/<id>. Every child gets its own stdout/stderr file (runsc
// run --detach keeps inherited pipes open). Processes are only ever signalled
// through runsc or by the pids this code itself spawned.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "exporter/sources/host/test_util.h"

extern char** environ;

namespace gvisor_exporter::host_test {

// Full path of `name` found in $PATH, or "".
inline std::string FindInPath(const std::string& name) {
  const char* path = ::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    const std::string candidate = dirs.substr(start, colon - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return "";
}

// Runs argv with stdin from /dev/null and stdout+stderr to `out_file`; returns
// the exit status, or -1 when it could not run or exceeded `timeout` (then
// the child we spawned is killed by its pid).
inline int RunCommand(const std::vector<std::string>& argv, const std::string& out_file,
                      std::chrono::seconds timeout = std::chrono::seconds(60)) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = -1;
  const int err = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class TestSandbox {
 public:
  explicit TestSandbox(std::string runsc)
      : runsc_(std::move(runsc)), id_("gvehost" + std::to_string(::getpid()) + "x") {}
  ~TestSandbox() { Remove(); }

  const std::string& id() const { return id_; }
  const std::string& dir() const { return tmp_.path(); }
  std::string root() const { return tmp_.path() + "/root"; }
  std::string cgroup_path() const { return "/gve-host-test/" + id_; }
  std::string log() const { return ReadFileOrDie(tmp_.path() + "/out"); }

  // Bundle + `runsc run --detach`; false (see log()) on failure.
  bool Start() {
    namespace fs = std::filesystem;
    const std::string bundle = tmp_.path() + "/bundle";
    fs::create_directories(bundle + "/rootfs/bin");
    fs::copy_file("/bin/busybox", bundle + "/rootfs/bin/busybox");
    fs::create_symlink("busybox", bundle + "/rootfs/bin/sh");
    fs::create_symlink("busybox", bundle + "/rootfs/bin/sleep");
    const std::string out = tmp_.path() + "/out";
    if (RunCommand({runsc_, "spec", "--bundle", bundle, "--", "/bin/sleep", "1000"}, out) != 0) {
      return false;
    }
    nlohmann::json spec = nlohmann::json::parse(ReadFileOrDie(bundle + "/config.json"));
    spec["process"]["terminal"] = false;
    spec["linux"]["cgroupsPath"] = cgroup_path();
    std::ofstream(bundle + "/config.json", std::ios::trunc) << spec.dump(2);
    started_ = true;
    return RunCommand({runsc_, "--root", root(), "--network=none", "run", "--detach", "--bundle",
                       bundle, id_},
                      out) == 0;
  }

  // The sandbox's state file (JSON), parsed; null when unreadable.
  nlohmann::json State() const {
    const std::string path = root() + "/" + id_ + "_sandbox:" + id_ + ".state";
    return nlohmann::json::parse(ReadFileOrDie(path), nullptr, /*allow_exceptions=*/false);
  }

  void Kill() {
    if (started_) RunCommand({runsc_, "--root", root(), "kill", id_, "KILL"}, tmp_.path() + "/out");
  }

  // Kills and deletes the sandbox and removes its cgroups (idempotent).
  void Remove() {
    if (!started_) return;
    Kill();
    RunCommand({runsc_, "--root", root(), "delete", "-force", id_}, tmp_.path() + "/out");
    started_ = false;
    std::error_code ec;
    for (const auto& hierarchy : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
      const std::filesystem::path parent = hierarchy.path() / "gve-host-test";
      std::filesystem::remove(parent / id_, ec);  // rmdir: deepest first
      std::filesystem::remove(parent, ec);        // fails while others use it
    }
    std::filesystem::remove(std::filesystem::path("/sys/fs/cgroup/gve-host-test") / id_, ec);
    std::filesystem::remove("/sys/fs/cgroup/gve-host-test", ec);
  }

 private:
  std::string runsc_;
  std::string id_;
  TempDir tmp_;
  bool started_ = false;
};

}  // namespace gvisor_exporter::host_test
