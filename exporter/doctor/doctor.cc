#include "exporter/doctor/doctor.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <set>

#include "exporter/doctor/report.h"

namespace gvisor_exporter {

using doctor::CheckResult;

namespace {

// "2s", "500ms", "1m", "1.5s" (Go-style, one unit).
bool ParseDurationArg(const std::string& s, std::chrono::milliseconds* out) {
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0 || i > 12) return false;
  const std::string number = s.substr(0, i), unit = s.substr(i);
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return false;
  double ms;
  if (unit == "ms") {
    ms = v;
  } else if (unit == "s") {
    ms = v * 1000;
  } else if (unit == "m") {
    ms = v * 60'000;
  } else {
    return false;
  }
  if (ms < 1 || ms > 600'000) return false;
  *out = std::chrono::milliseconds(static_cast<int64_t>(ms));
  return true;
}

}  // namespace

std::string DoctorUsage() {
  return "usage: gvisor-exporter doctor [flags]\n"
         "  --containerd.config=/etc/containerd/config.toml  (\"\" skips it; imports are "
         "followed)\n"
         "  --runsc.path=runsc\n"
         "  --runsc.root=DIR (repeatable)\n"
         "  --runsc.root-parent=/run/containerd/runsc (repeatable; \"\" disables the default)\n"
         "  --cri.endpoint=unix:///run/containerd/containerd.sock  (\"\" skips CRI)\n"
         "  --path.devfs=/dev  --path.procfs=/proc\n"
         "  --output=text|json  --timeout=2s (per runsc / socket / CRI call)\n"
         "Exit code: 0 all OK or WARN, 1 any FAIL, 2 usage error. Reads only.\n";
}

StatusOr<DoctorOptions> ParseDoctorArgs(const std::vector<std::string>& args) {
  DoctorOptions o;
  bool parents_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help" || a == "-help") {
      o.help = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) return InvalidError("unexpected argument \"" + a + "\"");
    std::string name = a.substr(2), value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return InvalidError("flag --" + name + " needs a value");
    }
    if (name == "containerd.config") {
      o.containerd_config = value;
    } else if (name == "runsc.path") {
      if (value.empty()) return InvalidError("--runsc.path must not be empty");
      o.runsc_path = value;
    } else if (name == "runsc.root") {
      if (!value.empty()) o.roots.push_back(value);
    } else if (name == "runsc.root-parent") {
      if (!parents_given) o.root_parents.clear();
      parents_given = true;
      if (!value.empty()) o.root_parents.push_back(value);
    } else if (name == "cri.endpoint") {
      o.cri_endpoint = value;
    } else if (name == "path.devfs") {
      o.devfs = value;
    } else if (name == "path.procfs") {
      o.procfs = value;
    } else if (name == "output") {
      if (value != "text" && value != "json") {
        return InvalidError("--output must be text or json, not \"" + value + "\"");
      }
      o.output = value;
    } else if (name == "timeout") {
      if (!ParseDurationArg(value, &o.timeout)) {
        return InvalidError("--timeout: bad duration \"" + value + "\" (e.g. 2s, 500ms)");
      }
    } else {
      return InvalidError("unknown flag --" + name);
    }
  }
  return o;
}

std::vector<CheckResult> RunDoctorChecks(const DoctorOptions& o) {
  using namespace doctor;  // NOLINT(build/namespaces): the checks' own module
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

int RunDoctor(const std::vector<std::string>& args) {
  // A sandbox closing its control socket mid-call must be an error value.
  signal(SIGPIPE, SIG_IGN);
  StatusOr<DoctorOptions> options = ParseDoctorArgs(args);
  if (!options.ok()) {
    std::fprintf(stderr, "gvisor-exporter doctor: %s\n\n%s", options.status().message().c_str(),
                 DoctorUsage().c_str());
    return 2;
  }
  if (options->help) {
    std::cout << DoctorUsage();
    return 0;
  }
  const std::vector<CheckResult> checks = RunDoctorChecks(*options);
  std::cout << (options->output == "json" ? doctor::RenderJsonText(checks)
                                          : doctor::RenderText(checks));
  std::cout.flush();
  return doctor::ExitCode(checks);
}

}  // namespace gvisor_exporter
