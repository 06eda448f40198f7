// `gvisor-exporter doctor`: inspects the node's gVisor setup (runsc, the
// containerd config and its gVisor handlers with their runsc.toml, runsc
// roots and live sandboxes, /dev/kvm, control sockets, CRI) and prints one
// OK / WARN / FAIL line per check with a fix hint. Read-only throughout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/doctor/checks.h"

namespace gvisor_exporter {

struct DoctorOptions {
  std::string containerd_config = "/etc/containerd/config.toml";  // "" skips the config checks
  std::string runsc_path = "runsc";
  std::vector<std::string> roots;
  std::vector<std::string> root_parents = {"/run/containerd/runsc"};
  std::string cri_endpoint = "unix:///run/containerd/containerd.sock";  // "" skips CRI
  std::string devfs = "/dev";
  std::string procfs = "/proc";
  std::string output = "text";  // text|json
  std::chrono::milliseconds timeout{2000};
  bool help = false;
};

// Parses the arguments after `doctor` (--name=value or --name value).
// kInvalid with a message on a usage error.
StatusOr<DoctorOptions> ParseDoctorArgs(const std::vector<std::string>& args);
std::string DoctorUsage();

// Runs every check in report order.
std::vector<doctor::CheckResult> RunDoctorChecks(const DoctorOptions& options);

// The subcommand: prints the report to stdout; returns 0 (all OK/WARN),
// 1 (a FAIL) or 2 (usage error, message on stderr).
int RunDoctor(const std::vector<std::string>& args);

}  // namespace gvisor_exporter
