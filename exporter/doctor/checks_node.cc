// Checks of the node itself: the runsc binary and /dev/kvm.
#include <utility>

#include "exporter/doctor/checks.h"
#include "exporter/doctor/file_io.h"
#include "exporter/sources/cli/runsc_cli.h"
#include "exporter/sources/host/platform.h"

namespace gvisor_exporter::doctor {

const char* CheckStatusName(CheckStatus s) {
  switch (s) {
    case CheckStatus::kOk:
      return "OK";
    case CheckStatus::kWarn:
      return "WARN";
    case CheckStatus::kFail:
      return "FAIL";
  }
  return "FAIL";
}

std::string DefaultPlatform(uint32_t runsc_release) {
  // systrap replaced ptrace as the default in release-20230621.
  if (runsc_release == 0) return "";
  return runsc_release < 20230621 ? "ptrace" : "systrap";
}

CheckResult CheckRunscBinary(const std::string& runsc_path, std::chrono::milliseconds timeout,
                             RunscInfo* info) {
  CheckResult r{"runsc binary"};
  r.data["configured"] = runsc_path;
  StatusOr<std::string> path = FindExecutable(runsc_path);
  if (!path.ok()) {
    r.status = CheckStatus::kFail;
    r.detail = "runsc not usable: " + path.status().message();
    r.hint =
        "install gVisor's runsc (Debian: apt install runsc) or pass --runsc.path=/path/to/runsc";
    return r;
  }
  info->path = *path;
  r.data["path"] = *path;
  RunscCli cli(RunscCliOptions{*path, timeout, 64 << 10});
  StatusOr<std::string> version = cli.Version();
  if (!version.ok()) {
    r.status = CheckStatus::kFail;
    r.detail = *path + " --version failed: " + version.status().message();
    r.hint = "check that " + *path + " is gVisor's runsc and runs on this host";
    return r;
  }
  info->version = *version;
  info->release = RunscReleaseDate(*version);
  r.data["version"] = *version;
  r.data["release"] = info->release;
  r.data["default_platform"] = DefaultPlatform(info->release);
  r.detail = *path + ", version " + *version;
  if (info->release != 0) {
    r.detail += " (release " + std::to_string(info->release) + ", default platform " +
                DefaultPlatform(info->release) + ")";
  }
  return r;
}

CheckResult CheckKvm(const std::vector<std::string>& kvm_users, const std::string& devfs) {
  CheckResult r{"kvm"};
  const NodeInfo node = ProbeNode("", devfs);
  const std::string dev = devfs + "/kvm";
  r.data["device"] = dev;
  r.data["present"] = node.kvm_device_present;
  r.data["usable"] = node.kvm_usable;
  r.data["used_by"] = kvm_users;
  const std::string state =
      std::string(node.kvm_device_present ? "present" : "absent") +
      (node.kvm_device_present ? (node.kvm_usable ? ", usable" : ", unusable") : "");
  if (kvm_users.empty()) {
    r.detail = "no handler or sandbox uses the kvm platform (skipped); " + dev + " " + state;
    return r;
  }
  std::string users;
  for (const std::string& u : kvm_users) users += (users.empty() ? "" : ", ") + u;
  if (node.kvm_usable) {
    r.detail = dev + " " + state + " for kvm platform users: " + users;
    return r;
  }
  r.status = CheckStatus::kFail;
  r.detail = "kvm platform configured (" + users + ") but " + dev + " is " + state;
  r.hint = node.kvm_device_present
               ? "load kvm_intel/kvm_amd and give runsc access to " + dev +
                     ", or switch those handlers to platform = \"systrap\" / \"ptrace\""
               : "use bare metal or nested virtualization, or switch those handlers to "
                 "platform = \"systrap\" (runsc >= 20230417) / \"ptrace\"";
  return r;
}

}  // namespace gvisor_exporter::doctor
