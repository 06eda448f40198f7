// Test-only: starts REAL runsc sandboxes (busybox sleep) and cleans them up.
// Header-only so the control and cli test binaries can both use it without it
// ever entering a library. Needs root and runsc; tests GTEST_SKIP otherwise.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "exporter/common/subprocess.h"
#include "exporter/model/sandbox.h"
#include "exporter/sources/control/urpc_client.h"

extern char** environ;

namespace gvisor_exporter::testing {

class RealSandboxEnv {
 public:
  // Empty when real sandboxes can run here, else why not.
  static std::string Unavailable() {
    if (geteuid() != 0) return "needs root";
    if (!RunCommand({"runsc", "--version"}, std::chrono::seconds(10), 1 << 16).ok()) {
      return "runsc not installed";
    }
    return "";
  }

  // Globally unique (abstract socket names are per host) and never a prefix
  // of another (runsc resolves ids by prefix): the trailing 'z' sees to that.
  static std::string UniqueId() {
    static std::atomic<int> n{0};
    return "gvectl" + std::to_string(getpid()) + "t" + std::to_string(n++) + "z";
  }

  RealSandboxEnv() {
    char tmpl[] = "/tmp/gve-ctl-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::filesystem::create_directories(root());
  }

  ~RealSandboxEnv() {
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) Destroy(*it);
    RemoveCgroups();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string root() const { return dir_ + "/root"; }

  // Runs `runsc --root <root> args...`; stdout on exit 0.
  StatusOr<std::string> Runsc(std::vector<std::string> args) const {
    args.insert(args.begin(), {"runsc", "--root", root()});
    auto r = RunCommand(args, std::chrono::seconds(30), 1 << 20);
    if (!r.ok()) return r.status();
    if (!r->success()) return RemoteError("runsc " + args[3] + ": " + r->stderr_data);
    return r->stdout_data;
  }

  // Starts container `id` running busybox `args`. With `sandbox_id` it joins
  // that sandbox as a CRI subcontainer; otherwise it is a new sandbox.
  Status Start(const std::string& id, const std::vector<std::string>& args,
               const std::string& sandbox_id = "") {
    const std::string bundle = dir_ + "/bundle-" + id;
    std::filesystem::create_directories(bundle + "/rootfs/bin");
    std::filesystem::copy_file("/bin/busybox", bundle + "/rootfs/bin/busybox");
    for (const char* tool : {"sh", "sleep"}) {
      std::filesystem::create_symlink("busybox", bundle + "/rootfs/bin/" + tool);
    }
    std::vector<std::string> spec = {"runsc", "spec", "-bundle", bundle, "--"};
    spec.insert(spec.end(), args.begin(), args.end());
    auto r = RunCommand(spec, std::chrono::seconds(30), 1 << 20);
    if (!r.ok() || !r->success()) return InternalError("runsc spec failed");
    GVE_RETURN_IF_ERROR(EditSpec(bundle + "/config.json", id, sandbox_id));
    started_.push_back(id);
    const std::string out = dir_ + "/" + id + ".out";
    int rc = SpawnToFile(
        {"runsc", "--root", root(), "--network=none", "run", "--detach", "--bundle", bundle, id},
        out);
    if (rc != 0) return InternalError("runsc run " + id + " exited " + std::to_string(rc));
    return sandbox_id.empty() ? WaitUntilSettled(id) : Status::Ok();
  }

  // Kills the container and deletes it: its sentry is gone afterwards.
  void Destroy(const std::string& id) {
    (void)Runsc({"kill", id, "KILL"});
    (void)Runsc({"delete", "-force", id});
  }

  SandboxInfo Info(const std::string& id, const std::vector<std::string>& others = {}) const {
    SandboxInfo sb;
    sb.root = root();
    sb.id = id;
    sb.containers.emplace_back().id = id;
    sb.containers.back().is_pause = true;
    for (const auto& o : others) sb.containers.emplace_back().id = o;
    return sb;
  }

 private:
  static Status EditSpec(const std::string& path, const std::string& id,
                         const std::string& sandbox_id) {
    nlohmann::json spec = nlohmann::json::parse(std::ifstream(path), nullptr, false);
    if (spec.is_discarded()) return ParseError("config.json");
    spec["process"]["terminal"] = false;
    spec["linux"]["cgroupsPath"] = "/gve-ctl-test/" + id;
    const bool sub = !sandbox_id.empty();
    spec["annotations"] = {
        {"io.kubernetes.cri.container-type", sub ? "container" : "sandbox"},
        {"io.kubernetes.cri.sandbox-id", sub ? sandbox_id : id},
    };
    std::ofstream(path) << spec.dump(2);
    return Status::Ok();
  }

  // A new sandbox's memory Total still moves for ~30 ms after `run --detach`
  // (measured: 2015232 -> 2027520 bytes), then an idle sleep holds still.
  // Waits for 3 equal reads 50 ms apart so tests can compare exactly.
  static Status WaitUntilSettled(const std::string& id) {
    UrpcConnection conn(SocketAddress::ForRunscSandbox(id));
    uint64_t last = 0;
    int same = 0;
    for (int i = 0; i < 100 && same < 3; ++i) {
      auto r = conn.Call("Usage.Collect", {{"Full", false}});
      if (!r.ok()) return r.status();
      const uint64_t total = r->value("Total", uint64_t{0});
      same = total == last ? same + 1 : 1;
      last = total;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return same >= 3 ? Status::Ok() : InternalError("sandbox memory never settled");
  }

  // `runsc run --detach` leaves daemons holding its stdio: give them a file,
  // not our pipes. Returns the exit code.
  static int SpawnToFile(const std::vector<std::string>& argv, const std::string& out) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return -1;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  // runsc delete removes a container's cgroup; remove what is left, deepest
  // first. The shared parent goes only once empty (other tests may use it).
  void RemoveCgroups() const {
    std::error_code ec;
    for (const auto& hierarchy : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
      const auto parent = hierarchy.path() / "gve-ctl-test";
      for (const auto& id : started_) rmdir((parent / id).c_str());
      rmdir(parent.c_str());
    }
  }

  std::string dir_;
  std::vector<std::string> started_;
};

}  // namespace gvisor_exporter::testing
