// `gvisor-exporter doctor`: inspects the node's gVisor setup (runsc, the
// containerd config and its gVisor handlers with their runsc.toml, runsc
// roots and live sandboxes, /dev/kvm, control sockets, CRI) and prints one
// OK / WARN / FAIL line per check with a fix hint. Read-only throughout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "exporter/doctor/checks.h"

namespace gvisor_exporter {

// What `doctor` checks. Its command line is the exporter's (exporter/app/
// flags.cc: one flag table, so --runsc.*, --cri.endpoint and --path.* mean
// the same and default the same for both); the node fields here are filled
// from it and have no defaults of their own.
struct DoctorOptions {
  // Doctor-only flags.
  std::string containerd_config = "/etc/containerd/config.toml";  // "" skips the config checks
  std::string output = "text";                                    // text|json
  std::chrono::milliseconds timeout{2000};  // per runsc / control socket / CRI call
  // Shared with the exporter.
  std::string runsc_path;
  std::vector<std::string> roots;
  std::vector<std::string> root_parents;
  std::string cri_endpoint;  // "" skips CRI
  std::string devfs;
  std::string procfs;
};

// Runs every check in report order.
std::vector<doctor::CheckResult> RunDoctorChecks(const DoctorOptions& options);

// The subcommand: prints the report to stdout; returns 0 (all OK/WARN) or 1
// (a FAIL). Usage errors (exit code 2) are the flag parser's.
int RunDoctor(const DoctorOptions& options);

}  // namespace gvisor_exporter
