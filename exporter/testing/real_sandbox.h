// Test-only: starts REAL runsc sandboxes (busybox) under a private root and
// removes all they leave behind. Header-only, so that no test binary needs a
// link to use it and nothing here ever enters a library. Needs root and runsc;
// tests GTEST_SKIP when Unavailable() says why not.
//
// Commands are spawned directly (never via a shell). Processes are only ever
// signalled through runsc, as the children this code spawned, or by a pid
// recorded from our own root's state files whose command line still names
// that root (pids get reused).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/common/subprocess.h"
#include "exporter/model/sandbox.h"
#include "exporter/testing/temp_dir.h"

extern char** environ;

namespace gvisor_exporter::testing {

// What RealSandboxEnv::Start() runs; the defaults make an idle sandbox.
struct StartOptions {
  std::vector<std::string> args = {"/bin/sleep", "1000"};
  // Non-empty: join that sandbox as a subcontainer (runsc then needs the CRI
  // annotations, see RealSandboxEnv::CriAnnotations()).
  std::string sandbox_id;
  // config.json "annotations"; null keeps what `runsc spec` wrote (none).
  nlohmann::json annotations;
  // Global runsc flags for `run`.
  std::vector<std::string> flags = {"--network=none"};
  // linux.cgroupsPath; "" means /<name>/<id> (see RealSandboxEnv's constructor).
  std::string cgroups_path;
  // Return only once the sandbox's memory holds still (WaitUntilSettled).
  bool wait_settled = false;
};

class RealSandboxEnv {
 public:
  // Empty when real sandboxes can run here, else why not.
  static std::string Unavailable() {
    if (::geteuid() != 0) return "needs root";
    if (!RunCommand({"runsc", "--version"}, std::chrono::seconds(10), 1 << 16).ok()) {
      return "runsc not installed";
    }
    return "";
  }

  // Globally unique (abstract socket names are per host) and never a prefix
  // of another (runsc resolves ids by prefix): the trailing 'z' sees to that.
  static std::string UniqueId(const std::string& prefix = "gvet") {
    static std::atomic<int> n{0};
    return prefix + std::to_string(::getpid()) + "t" + std::to_string(n++) + "z";
  }

  // The annotations containerd's CRI plugin sets: a sandbox of its own when
  // `sandbox_id` is empty (or `id`), else a container joining `sandbox_id`.
  static nlohmann::json CriAnnotations(const std::string& id, const std::string& sandbox_id = "") {
    const bool sub = !sandbox_id.empty() && sandbox_id != id;
    return {{"io.kubernetes.cri.container-type", sub ? "container" : "sandbox"},
            {"io.kubernetes.cri.sandbox-id", sub ? sandbox_id : id}};
  }

  // `name` tags the scratch directory and is the parent of the default
  // cgroups paths (/<name>/<id>), so leftovers say which tests made them.
  explicit RealSandboxEnv(const std::string& name = "gve-test") : name_(name), tmp_(name) {
    std::filesystem::create_directories(root());
  }

  // Destroys what was started (latest first), then SIGKILLs any recorded
  // sandbox process still running under our root, then removes the cgroups
  // and the scratch directory.
  ~RealSandboxEnv() {
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) Destroy(it->id);
    for (int64_t pid : pids_) KillIfOurs(pid);
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
      // SIGKILL is asynchronous and a cgroup goes only once it is empty: give
      // processes killed just now a moment (runsc delete leaves none).
      for (int i = 0; i < 100 && CgroupExists(it->cgroups_path); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        RemoveCgroups(it->cgroups_path, /*with_parents=*/false);
      }
      RemoveCgroups(it->cgroups_path, /*with_parents=*/true);
    }
  }

  RealSandboxEnv(const RealSandboxEnv&) = delete;
  RealSandboxEnv& operator=(const RealSandboxEnv&) = delete;

  std::string root() const { return tmp_.Sub("root"); }

  // linux.cgroupsPath of a started container ("" for an unknown id).
  std::string CgroupsPath(const std::string& id) const {
    for (const Started& s : started_) {
      if (s.id == id) return s.cgroups_path;
    }
    return "";
  }

  // What `runsc run` of `id` printed (for failure messages).
  std::string Log(const std::string& id) const { return ReadFile(LogPath(id)); }

  // Builds a busybox bundle for `c` and runs it detached as container `id`.
  Status Start(const std::string& id, const StartOptions& c = {}) {
    namespace fs = std::filesystem;
    const std::string bundle = tmp_.Sub("bundle-" + id);
    std::error_code ec;
    fs::create_directories(bundle + "/rootfs/bin", ec);
    fs::copy_file("/bin/busybox", bundle + "/rootfs/bin/busybox", ec);
    if (ec) return InternalError("copy /bin/busybox (install busybox-static): " + ec.message());
    for (const char* tool : {"sh", "sleep"}) {
      fs::create_symlink("busybox", bundle + "/rootfs/bin/" + tool, ec);
      if (ec) return InternalError("symlink " + std::string(tool) + ": " + ec.message());
    }
    std::vector<std::string> spec = {"runsc", "spec", "-bundle", bundle, "--"};
    spec.insert(spec.end(), c.args.begin(), c.args.end());
    StatusOr<CommandResult> r = RunCommand(spec, std::chrono::seconds(30), 1 << 20);
    if (!r.ok()) return r.status().WithContext("runsc spec");
    if (!r->success()) return InternalError("runsc spec failed: " + r->stderr_data);
    const std::string cgroups_path =
        c.cgroups_path.empty() ? "/" + name_ + "/" + id : c.cgroups_path;
    GVE_RETURN_IF_ERROR(EditSpec(bundle + "/config.json", cgroups_path, c.annotations));

    started_.push_back({id, cgroups_path});  // from here on cleaned up, whatever happens
    std::vector<std::string> run = {"runsc", "--root", root()};
    run.insert(run.end(), c.flags.begin(), c.flags.end());
    run.insert(run.end(), {"run", "--detach", "--bundle", bundle, id});
    const int rc = SpawnToFile(run, LogPath(id), std::chrono::seconds(60));
    if (rc != 0) {
      return InternalError("runsc run " + id + " exited " + std::to_string(rc) + ": " + Log(id));
    }
    const nlohmann::json state = StateFile(id, c.sandbox_id);
    for (const char* field : {"/sandbox/pid", "/goferPid"}) {
      const nlohmann::json::json_pointer p(field);
      if (state.is_object() && state.contains(p) && state.at(p).is_number_integer()) {
        pids_.push_back(state.at(p).get<int64_t>());
      }
    }
    return c.wait_settled ? WaitUntilSettled(id) : Status::Ok();
  }

  // A CRI pod sandbox `id` running `sleep 1000`, settled: for tests that
  // compare the sandbox's numbers over two paths exactly.
  Status StartCriSandbox(const std::string& id) {
    StartOptions o;
    o.annotations = CriAnnotations(id);
    o.wait_settled = true;
    return Start(id, o);
  }

  // A CRI container `id` running `args`, joining the sandbox `sandbox_id`.
  Status StartCriContainer(const std::string& id, const std::string& sandbox_id,
                           std::vector<std::string> args) {
    StartOptions o;
    o.args = std::move(args);
    o.sandbox_id = sandbox_id;
    o.annotations = CriAnnotations(id, sandbox_id);
    return Start(id, o);
  }

  // Runs `runsc --root <root> args...`; its stdout when it exits 0.
  StatusOr<std::string> Runsc(std::vector<std::string> args) const {
    args.insert(args.begin(), {"runsc", "--root", root()});
    StatusOr<CommandResult> r = RunCommand(args, std::chrono::seconds(30), 1 << 20);
    if (!r.ok()) return r.status();
    if (!r->success()) return RemoteError("runsc " + args[3] + ": " + r->stderr_data);
    return r->stdout_data;
  }

  // `runsc list -format=json`, parsed (an array of containers).
  StatusOr<nlohmann::json> List() const { return RunscJson({"list", "-format=json"}); }

  // `runsc usage <id>`, parsed ({"Total": bytes, ...}).
  StatusOr<nlohmann::json> Usage(const std::string& id) const { return RunscJson({"usage", id}); }

  // The state file runsc keeps for `container_id` (of `sandbox_id`, itself by
  // default), parsed; null when unreadable.
  nlohmann::json StateFile(const std::string& container_id,
                           const std::string& sandbox_id = "") const {
    const std::string sb = sandbox_id.empty() ? container_id : sandbox_id;
    return nlohmann::json::parse(
        ReadFile(root() + "/" + container_id + "_sandbox:" + sb + ".state"), nullptr,
        /*allow_exceptions=*/false);
  }

  // `runsc kill <id> KILL`: the sandbox (or container) dies, its state stays.
  void Kill(const std::string& id) const { (void)Runsc({"kill", id, "KILL"}); }

  // Kills and deletes the container and removes its cgroups: its processes
  // are gone afterwards. Idempotent.
  void Destroy(const std::string& id) {
    for (Started& s : started_) {
      if (s.id != id || s.destroyed) continue;
      Kill(id);
      (void)Runsc({"delete", "-force", id});
      RemoveCgroups(s.cgroups_path, /*with_parents=*/false);
      s.destroyed = true;
    }
  }

  // The SandboxInfo discovery would report for sandbox `id` (pause container
  // first), for feeding the stats sources directly.
  SandboxInfo Info(const std::string& id, const std::vector<std::string>& others = {}) const {
    SandboxInfo sb;
    sb.root = root();
    sb.id = id;
    sb.containers.emplace_back().id = id;
    sb.containers.back().is_pause = true;
    for (const auto& o : others) sb.containers.emplace_back().id = o;
    return sb;
  }

  // A new sandbox's memory Total still moves for ~30 ms after `run --detach`
  // (measured: 2015232 -> 2027520 bytes), then an idle sleep holds still.
  // Waits for 3 equal `runsc usage` Totals 50 ms apart so that tests can
  // compare exactly.
  Status WaitUntilSettled(const std::string& id) const {
    uint64_t last = 0;
    int same = 0;
    for (int i = 0; i < 100 && same < 3; ++i) {
      StatusOr<nlohmann::json> usage = Usage(id);
      if (!usage.ok()) return usage.status();
      const auto total = usage->find("Total");
      if (total == usage->end() || !total->is_number_unsigned()) {
        return ParseError("runsc usage has no Total: " + usage->dump());
      }
      same = total->get<uint64_t>() == last ? same + 1 : 1;
      last = total->get<uint64_t>();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return same >= 3 ? Status::Ok() : InternalError("sandbox memory never settled");
  }

 private:
  struct Started {
    std::string id;
    std::string cgroups_path;
    bool destroyed = false;
  };

  std::string LogPath(const std::string& id) const { return tmp_.Sub(id + ".log"); }

  // SIGKILLs `pid` only while its command line names our root; true if sent.
  bool KillIfOurs(int64_t pid) const {
    if (pid <= 0) return false;
    const std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
    if (cmdline.find("--root=" + root()) == std::string::npos) return false;
    return ::kill(static_cast<pid_t>(pid), SIGKILL) == 0;
  }

  StatusOr<nlohmann::json> RunscJson(std::vector<std::string> args) const {
    StatusOr<std::string> out = Runsc(std::move(args));
    if (!out.ok()) return out.status();
    nlohmann::json j = nlohmann::json::parse(*out, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return ParseError("not JSON: " + *out);
    return j;
  }

  static Status EditSpec(const std::string& path, const std::string& cgroups_path,
                         const nlohmann::json& annotations) {
    nlohmann::json spec = nlohmann::json::parse(ReadFile(path), nullptr, false);
    if (spec.is_discarded()) return ParseError(path);
    spec["process"]["terminal"] = false;
    spec["linux"]["cgroupsPath"] = cgroups_path;
    if (!annotations.is_null()) spec["annotations"] = annotations;
    std::ofstream out(path, std::ios::trunc);
    out << spec.dump(2);
    return out.good() ? Status::Ok() : InternalError("write " + path);
  }

  // Runs argv with stdin from /dev/null and stdout+stderr to `log`: `runsc run
  // --detach` leaves daemons holding its stdio, so they get a file, not our
  // pipes. Returns the exit code, or -1 when it could not run or outlived
  // `timeout` (then this child of ours is killed by its pid).
  static int SpawnToFile(const std::vector<std::string>& argv, const std::string& log,
                         std::chrono::seconds timeout) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    std::vector<char*> cargv;
    cargv.reserve(argv.size() + 1);
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid = -1;
    const int err = posix_spawnp(&pid, argv[0].c_str(), &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int st = 0;
    pid_t r;
    while ((r = ::waitpid(pid, &st, WNOHANG)) == 0 || (r < 0 && errno == EINTR)) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return r == pid && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  // The v2 tree and every v1 hierarchy (hybrid hosts have both).
  static std::vector<std::filesystem::path> CgroupBases() {
    std::vector<std::filesystem::path> bases = {"/sys/fs/cgroup"};
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/sys/fs/cgroup", ec)) {
      if (e.is_directory(ec) && !e.is_symlink(ec)) bases.push_back(e.path());
    }
    return bases;
  }

  static bool CgroupExists(const std::string& cgroups_path) {
    if (cgroups_path.empty() || cgroups_path.front() != '/') return false;
    std::error_code ec;
    for (const auto& base : CgroupBases()) {
      if (std::filesystem::exists(base / std::filesystem::path(cgroups_path).relative_path(), ec)) {
        return true;
      }
    }
    return false;
  }

  // rmdir `cgroups_path`, and then its parents (deepest first), in every
  // cgroup hierarchy. A cgroup still in use, or a parent shared with another
  // running test, fails to go harmlessly.
  static void RemoveCgroups(const std::string& cgroups_path, bool with_parents) {
    if (cgroups_path.empty() || cgroups_path.front() != '/') return;
    for (const auto& base : CgroupBases()) {
      for (std::filesystem::path p = std::filesystem::path(cgroups_path).relative_path();
           !p.empty(); p = p.parent_path()) {
        ::rmdir((base / p).c_str());
        if (!with_parents) break;
      }
    }
  }

  std::string name_;
  TempDir tmp_;
  std::vector<Started> started_;
  std::vector<int64_t> pids_;  // sentries and gofers, for the destructor
};

}  // namespace gvisor_exporter::testing
