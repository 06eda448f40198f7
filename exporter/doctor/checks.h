// The doctor's checks: one small function per question an operator asks when a
// gVisor pod will not start or the exporter shows nothing (issue 7).
//
// Each check returns a CheckResult (OK / WARN / FAIL, a one-line detail, a
// one-line fix hint, and structured data for --output=json) and, where later
// checks need it, fills a struct with what it learned. Checks only read: files
// are opened read-only and must be regular files (bounded reads; a FIFO or a
// device named in a config is reported, never opened for reading), runsc is
// run as `runsc --version` only, the control socket gets one read-only urpc
// call, CRI gets Version and ListPodSandbox.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "exporter/doctor/toml.h"
#include "exporter/model/sandbox.h"
#include "exporter/sources/cri/pod_mapper.h"

namespace gvisor_exporter::doctor {

enum class CheckStatus { kOk, kWarn, kFail };
const char* CheckStatusName(CheckStatus s);  // "OK", "WARN", "FAIL"

struct CheckResult {
  CheckResult() = default;
  explicit CheckResult(std::string n, CheckStatus s = CheckStatus::kOk, std::string d = "",
                       std::string h = "")
      : name(std::move(n)), status(s), detail(std::move(d)), hint(std::move(h)) {}

  std::string name;
  CheckStatus status = CheckStatus::kOk;
  std::string detail;
  std::string hint;  // how to fix; "" when there is nothing to fix
  nlohmann::json data = nlohmann::json::object();
};

// ---- runsc binary

struct RunscInfo {
  std::string path;      // resolved path; "" when not found
  std::string version;   // "0.0~20221219.0"; "" when unknown
  uint32_t release = 0;  // YYYYMMDD from the version, 0 when unknown
};

// Finds `runsc_path` (PATH lookup when it has no '/') and runs `runsc
// --version` (argv only, killed after `timeout`). FAIL when missing or when
// --version fails.
CheckResult CheckRunscBinary(const std::string& runsc_path, std::chrono::milliseconds timeout,
                             RunscInfo* info);

// ---- containerd config

struct ConfigFile {
  std::string path;
  TomlValue root;
};

struct ContainerdConfig {
  std::vector<ConfigFile> files;  // the main file first, then imports in load order
};

// Reads `path` and, transitively, the files its `imports = [...]` name (glob
// patterns; relative to the importing file; at most kMaxConfigFiles in all).
// FAIL when a file is unreadable or not valid TOML (the error names the line and column).
CheckResult CheckContainerdConfig(const std::string& path, ContainerdConfig* config);
inline constexpr size_t kMaxConfigFiles = 32;

struct GvisorHandler {
  std::string name;          // the CRI runtime handler (RuntimeClass .handler)
  std::string runtime_type;  // io.containerd.runsc.v1, io.containerd.runc.v2, ...
  std::string source_file;   // the config file that defines it (last definition wins)
  std::string binary_name;   // options.BinaryName (runc-shim route), "" for the runsc shim
  std::string config_path;   // options.ConfigPath (runsc shim's runsc.toml), may be ""
  std::vector<std::string> pod_annotations;
  nlohmann::json options = nlohmann::json::object();
  // Where this handler's sandboxes' runsc roots live: <root_parent>/<containerd namespace>.
  std::string root_parent;
  // From the runsc.toml (or defaults); "" when unknown (a wrapper's flags are not visible).
  std::string platform;
  bool platform_explicit = false;
  std::string pod_init_config;
};

// Every runtime under the CRI plugin's containerd.runtimes (config versions 1,
// 2 and 3) whose runtime_type is io.containerd.runsc.v1, or whose BinaryName /
// runtime_engine is runsc or named like it (a wrapper). `all_handlers` gets
// every runtime name, gVisor or not.
std::vector<GvisorHandler> FindGvisorHandlers(const ContainerdConfig& config,
                                              std::set<std::string>* all_handlers);
// FAIL when there is none: no RuntimeClass can run gVisor pods on this node.
CheckResult CheckGvisorHandlers(const std::vector<GvisorHandler>& handlers,
                                const std::set<std::string>& all_handlers);
// One handler: its type, options and runtime binary; WARN when pod_annotations
// does not pass gvisor-exporter.io/* (syscall opt-in by annotation cannot work).
CheckResult CheckHandler(const GvisorHandler& handler);
// The handler's runsc.toml (ConfigPath): platform (release default when
// unset), network, file-access, debug/strace (WARN), values that are not
// strings (FAIL: the shim cannot load them). Fills platform, root_parent and
// pod_init_config of `handler`.
CheckResult CheckRunscToml(GvisorHandler* handler, const RunscInfo& runsc);
// pod-init-config: the file exists, is JSON with a trace_session; WARN when its
// sink socket is not there (nobody listening: sandboxes start, events are lost).
CheckResult CheckPodInitConfig(const GvisorHandler& handler);

// The platform runsc uses when none is configured.
std::string DefaultPlatform(uint32_t runsc_release);
// containerd's pod_annotations matching (path.Match-like globs: * and ?).
bool GlobMatch(std::string_view pattern, std::string_view name);

// ---- node

// FAIL when some handler or live sandbox uses kvm and <devfs>/kvm is missing or
// unusable; OK (skipped) otherwise.
CheckResult CheckKvm(const std::vector<std::string>& kvm_users, const std::string& devfs);

// ---- roots and sandboxes

struct RootsSpec {
  std::vector<std::string> roots;    // explicit roots (--runsc.root)
  std::vector<std::string> parents;  // every subdirectory is a root (--runsc.root-parent + config)
};

// Which roots exist. FAIL when a configured root or parent cannot be opened or
// listed (a file, permissions, ...); WARN when none exists (no gVisor sandbox
// has run yet, or the paths are wrong).
CheckResult CheckRoots(const RootsSpec& spec, std::vector<std::string>* roots_found);

struct LiveSandbox {
  SandboxInfo info;
  SandboxPlatform platform;  // from the sentry's command line / metadata
};

// Live sandboxes under the roots (RootScanner: state files + /proc liveness).
CheckResult CheckSandboxes(const RootsSpec& spec, const std::string& proc_root,
                           const RunscInfo& runsc, std::vector<LiveSandbox>* sandboxes);

// One read-only urpc call per sandbox (containerManager.Event) with `timeout`;
// WARN for those that do not answer (the exporter then falls back to the CLI).
CheckResult CheckControlSockets(const std::vector<LiveSandbox>& sandboxes,
                                std::chrono::milliseconds timeout);

// ---- CRI

struct CriInfo {
  bool up = false;
  std::string runtime_name, runtime_version, api_version;
  // Validated as the exporter validates them (ValidatePod), so the doctor
  // sees the pods the exporter would map.
  std::vector<CriPod> pods;
};

// Version + ListPodSandbox on `endpoint` with the exporter's CRI client (same
// channel, same error mapping). WARN when unreachable: the exporter still
// works without CRI (no pod/RuntimeClass mapping), and when the runtime lists
// pods the exporter would skip as invalid.
CheckResult CheckCriEndpoint(const std::string& endpoint, std::chrono::milliseconds timeout,
                             CriInfo* info);
// Handlers the pods use. WARN when a pod names a handler the containerd config
// does not define (checked only when the config was read), or when a ready pod
// of a gVisor handler has no sandbox under the scanned roots (the exporter
// would not see it).
CheckResult CheckCriHandlers(const CriInfo& cri, const std::set<std::string>* config_handlers,
                             const std::set<std::string>& gvisor_handlers,
                             const std::vector<LiveSandbox>& sandboxes);

}  // namespace gvisor_exporter::doctor
