// runsc roots, the live sandboxes in them, and their control sockets.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "exporter/common/error_reporter.h"
#include "exporter/common/file_util.h"
#include "exporter/common/log.h"
#include "exporter/common/log_capture.h"
#include "exporter/doctor/checks.h"
#include "exporter/sources/control/control_client.h"
#include "exporter/sources/control/urpc_client.h"
#include "exporter/sources/host/platform.h"
#include "exporter/sources/runsc_state/dir_listing.h"
#include "exporter/sources/runsc_state/root_scanner.h"

namespace gvisor_exporter::doctor {

namespace {

// Sandboxes whose control socket is tried: one call each, sequentially, so
// the check's time stays bounded by this times the timeout.
constexpr size_t kMaxSocketChecks = 64;
constexpr size_t kMaxListedRoots = 256;

}  // namespace

CheckResult CheckRoots(const RootsSpec& spec, std::vector<std::string>* roots_found) {
  CheckResult r{"runsc roots"};
  std::vector<std::string> problems, warnings, absent;
  nlohmann::json roots = nlohmann::json::array();
  auto note_root = [&](const std::string& path, const char* from) {
    roots_found->push_back(path);
    roots.push_back({{"path", path}, {"from", from}});
  };
  for (const std::string& root : spec.roots) {
    StatusOr<UniqueFd> fd = OpenDir(root, NotADirectory::kInvalid);
    if (fd.ok()) {
      bool truncated = false;
      StatusOr<std::vector<DirEntry>> entries = ListDir(fd->get(), 1, &truncated);
      if (entries.ok()) {
        note_root(root, "--runsc.root");
      } else {
        problems.push_back("root " + root + ": " + entries.status().message());
      }
    } else if (fd.status().reason() == Reason::kNotFound) {
      absent.push_back(root);
    } else {
      problems.push_back("root " + root + ": " + fd.status().message());
    }
  }
  for (const std::string& parent : spec.parents) {
    StatusOr<UniqueFd> fd = OpenDir(parent, NotADirectory::kInvalid);
    if (!fd.ok()) {
      if (fd.status().reason() == Reason::kNotFound) {
        absent.push_back(parent);
      } else {
        problems.push_back("root parent " + parent + ": " + fd.status().message());
      }
      continue;
    }
    bool truncated = false;
    StatusOr<std::vector<DirEntry>> entries = ListDir(fd->get(), kMaxListedRoots, &truncated);
    if (!entries.ok()) {
      problems.push_back("root parent " + parent + ": " + entries.status().message());
      continue;
    }
    std::sort(entries->begin(), entries->end(),
              [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
    for (const DirEntry& e : *entries) {
      if (e.type == EntryType::kSymlink) {
        // Skipped by the exporter too: whoever can write the parent must
        // not be able to point it elsewhere.
        warnings.push_back(parent + "/" + e.name + " is a symlink (never followed)");
      } else if (e.type == EntryType::kDirectory) {
        note_root(parent + "/" + e.name, "root parent");
      }
    }
  }
  r.data["roots"] = roots;
  r.data["absent"] = absent;
  r.data["problems"] = problems;
  r.data["warnings"] = warnings;
  std::string list;
  for (const std::string& p : *roots_found) list += (list.empty() ? "" : ", ") + p;
  if (!problems.empty()) {
    r.status = CheckStatus::kFail;
    r.detail = problems.front() +
               (problems.size() > 1 ? " (+" + std::to_string(problems.size() - 1) + " more)" : "");
    r.hint =
        "--runsc.root / --runsc.root-parent must name directories root can list "
        "(containerd's shim root, e.g. /run/containerd/runsc)";
  } else if (roots_found->empty()) {
    r.status = CheckStatus::kWarn;
    std::string tried;
    for (const std::string& p : absent) tried += (tried.empty() ? "" : ", ") + p;
    r.detail = "no runsc root exists (looked for " + (tried.empty() ? "nothing" : tried) + ")";
    r.hint =
        "normal before the first gVisor pod starts; otherwise pass the shim's root with "
        "--runsc.root-parent or --runsc.root";
  } else {
    r.detail = std::to_string(roots_found->size()) + " root(s): " + list;
    if (!warnings.empty()) {
      r.status = CheckStatus::kWarn;
      r.detail += "; " + warnings.front();
      r.hint = "replace the symlink by the directory itself, or name it with --runsc.root";
    }
  }
  return r;
}

CheckResult CheckSandboxes(const RootsSpec& spec, const std::string& proc_root,
                           const RunscInfo& runsc, std::vector<LiveSandbox>* sandboxes) {
  CheckResult r{"sandboxes"};
  ErrorReporter reporter;
  RootScannerOptions options;
  options.roots = spec.roots;
  options.root_parents = spec.parents;
  options.proc_root = proc_root;
  ScanResult scan;
  std::vector<std::string> log_lines;
  {
    // The scanner's per-file problems (logged by ErrorReporter) become part of
    // the report: without time, caller and level, which the report has.
    LogCapture capture(LogFormat::kLogfmt, {false, false, false}, spdlog::level::warn, 8);
    scan = RootScanner(options, &reporter).Scan();
    log_lines = capture.Lines();
  }
  nlohmann::json list = nlohmann::json::array();
  std::string ids;
  for (SandboxInfo& sb : scan.sandboxes) {
    LiveSandbox live;
    StatusOr<std::vector<std::string>> argv = ReadCmdline(proc_root, sb.pid);
    SandboxPlatform from_cmdline;
    if (argv.ok()) from_cmdline = PlatformFromCmdline(*argv, runsc.version);
    live.platform = sb.metric_metadata.empty()
                        ? from_cmdline
                        : MergePlatform(PlatformFromMetadata(sb.metric_metadata), from_cmdline);
    nlohmann::json containers = nlohmann::json::array();
    for (const ContainerInfo& c : sb.containers) containers.push_back(c.id);
    list.push_back({{"id", sb.id},
                    {"root", sb.root},
                    {"pid", sb.pid},
                    {"pod", sb.pod_name},
                    {"namespace", sb.pod_namespace},
                    {"containers", containers},
                    {"platform", live.platform.platform},
                    {"network", live.platform.network},
                    {"debug", live.platform.debug},
                    {"strace", live.platform.strace}});
    if (list.size() <= 10) ids += (ids.empty() ? "" : ", ") + sb.id.substr(0, 12);
    live.info = std::move(sb);
    sandboxes->push_back(std::move(live));
  }
  uint64_t stale = 0, other = 0;
  nlohmann::json reasons = nlohmann::json::object();
  for (const auto& [key, n] : reporter.Counts()) {
    (key.second == ReasonName(Reason::kNotFound) ? stale : other) += n;
    reasons[key.second] = n;
  }
  r.data["sandboxes"] = list;
  r.data["count"] = list.size();
  r.data["stale_state_files"] = stale;
  r.data["problems"] = reasons;
  r.data["log"] = log_lines;
  r.detail = std::to_string(list.size()) + " live sandbox(es)";
  if (!ids.empty()) r.detail += ": " + ids + (list.size() > 10 ? ", ..." : "");
  if (stale > 0)
    r.detail += "; " + std::to_string(stale) + " stale state file(s) of dead sandboxes";
  const size_t debugging =
      std::count_if(sandboxes->begin(), sandboxes->end(),
                    [](const LiveSandbox& s) { return s.platform.debug || s.platform.strace; });
  if (other > 0 || !scan.success) {
    r.status = CheckStatus::kWarn;
    r.detail += "; " + std::to_string(other) + " unreadable/invalid entries skipped" +
                (log_lines.empty() ? "" : " (" + log_lines.back().substr(0, 300) + ")");
    r.hint = "look at the named files in the root; the exporter skips them the same way";
  } else if (debugging > 0) {
    r.status = CheckStatus::kWarn;
    r.detail += "; " + std::to_string(debugging) + " running with debug/strace";
    r.hint = "restart those pods without debug/strace once done debugging";
  }
  return r;
}

CheckResult CheckControlSockets(const std::vector<LiveSandbox>& sandboxes,
                                std::chrono::milliseconds timeout) {
  CheckResult r{"control sockets"};
  if (sandboxes.empty()) {
    r.detail = "no live sandbox (skipped)";
    return r;
  }
  nlohmann::json results = nlohmann::json::array();
  std::vector<std::string> bad;
  size_t checked = 0;
  for (const LiveSandbox& sb : sandboxes) {
    if (checked++ >= kMaxSocketChecks) break;
    const SocketAddress address = ControlSocketAddress(sb.info);
    UrpcConnection conn(address, UrpcOptions{timeout, 1 << 20});
    // containerManager.Event only reads; a "success:false" reply (another
    // release's argument dialect) still proves the socket answers.
    StatusOr<nlohmann::json> reply = conn.Call("containerManager.Event", nlohmann::json::object());
    const bool ok = reply.ok() || reply.status().reason() == Reason::kRemote;
    conn.Close();
    results.push_back({{"id", sb.info.id},
                       {"address", address.ToString()},
                       {"reachable", ok},
                       {"error", ok ? "" : reply.status().ToString()}});
    if (!ok) bad.push_back(sb.info.id.substr(0, 12) + " (" + reply.status().ToString() + ")");
  }
  r.data["sockets"] = results;
  if (bad.empty()) {
    r.detail = std::to_string(results.size()) + " of " + std::to_string(results.size()) +
               " answered within " + std::to_string(timeout.count()) + " ms";
    return r;
  }
  r.status = CheckStatus::kWarn;
  r.detail = std::to_string(bad.size()) + " of " + std::to_string(results.size()) +
             " unreachable: " + bad.front() + (bad.size() > 1 ? ", ..." : "");
  r.hint =
      "run as root in the host network namespace (runsc < 20230920 uses abstract sockets); "
      "the exporter falls back to the runsc CLI meanwhile";
  return r;
}

}  // namespace gvisor_exporter::doctor
