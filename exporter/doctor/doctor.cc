#include "exporter/doctor/doctor.h"

#include <signal.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "exporter/doctor/report.h"

namespace gvisor_exporter {

using doctor::CheckResult;

std::vector<CheckResult> RunDoctorChecks(const DoctorOptions& o) {
  using namespace doctor;  // NOLINT(google-build-using-namespace): the checks' own module
  std::vector<CheckResult> out;
  RunscInfo runsc;
  out.push_back(CheckRunscBinary(o.runsc_path, o.timeout, &runsc));

  std::vector<GvisorHandler> handlers;
  std::set<std::string> all_handlers;
  bool config_read = false;
  if (o.containerd_config.empty()) {
    out.push_back(
        CheckResult("containerd config", CheckStatus::kOk, "skipped (--containerd.config=\"\")"));
  } else {
    ContainerdConfig config;
    out.push_back(CheckContainerdConfig(o.containerd_config, &config));
    config_read = out.back().status != CheckStatus::kFail;
    if (config_read) {
      handlers = FindGvisorHandlers(config, &all_handlers);
      out.push_back(CheckGvisorHandlers(handlers, all_handlers));
      for (GvisorHandler& h : handlers) {
        out.push_back(CheckHandler(h));
        out.push_back(CheckRunscToml(&h, runsc));
        if (!h.pod_init_config.empty()) out.push_back(CheckPodInitConfig(h));
      }
    }
  }

  // Roots: the flags' plus where the configured handlers keep state.
  RootsSpec spec{o.roots, o.root_parents};
  for (const GvisorHandler& h : handlers) {
    if (!h.root_parent.empty() &&
        std::find(spec.parents.begin(), spec.parents.end(), h.root_parent) == spec.parents.end()) {
      spec.parents.push_back(h.root_parent);
    }
  }
  std::vector<std::string> roots_found;
  out.push_back(CheckRoots(spec, &roots_found));
  std::vector<LiveSandbox> sandboxes;
  out.push_back(CheckSandboxes(spec, o.procfs, runsc, &sandboxes));
  out.push_back(CheckControlSockets(sandboxes, o.timeout));

  std::vector<std::string> kvm_users;
  for (const GvisorHandler& h : handlers) {
    if (h.platform == "kvm") kvm_users.push_back("handler " + h.name);
  }
  for (const LiveSandbox& s : sandboxes) {
    if (s.platform.platform == "kvm") kvm_users.push_back("sandbox " + s.info.id.substr(0, 12));
  }
  out.push_back(CheckKvm(kvm_users, o.devfs));

  CriInfo cri;
  out.push_back(CheckCriEndpoint(o.cri_endpoint, o.timeout, &cri));
  std::set<std::string> gvisor_names;
  for (const GvisorHandler& h : handlers) gvisor_names.insert(h.name);
  out.push_back(
      CheckCriHandlers(cri, config_read ? &all_handlers : nullptr, gvisor_names, sandboxes));
  return out;
}

int RunDoctor(const DoctorOptions& options) {
  // A sandbox closing its control socket mid-call must be an error value.
  signal(SIGPIPE, SIG_IGN);
  const std::vector<CheckResult> checks = RunDoctorChecks(options);
  std::cout << (options.output == "json" ? doctor::RenderJsonText(checks)
                                         : doctor::RenderText(checks));
  std::cout.flush();
  return doctor::ExitCode(checks);
}

}  // namespace gvisor_exporter
