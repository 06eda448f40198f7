#include "exporter/sources/host/host_reader.h"

#include <utility>

#include "exporter/sources/host/platform.h"

namespace gvisor_exporter {

HostReader::HostReader(HostReaderOptions options, ErrorReporter* errors)
    : options_(std::move(options)),
      errors_(errors),
      proc_(options_.proc),
      cgroup_(options_.cgroup_root) {}

StatusOr<std::vector<HostProcess>> HostReader::Processes(const SandboxInfo& sandbox) const {
  const std::vector<ProcessRef> refs = proc_.FindSandboxProcesses(sandbox);
  if (refs.empty() || refs.front().role != ProcessRole::kSentry) {
    return NotFoundError("sentry " + std::to_string(sandbox.pid) + " is gone");
  }
  std::vector<HostProcess> out;
  out.reserve(refs.size());
  for (const ProcessRef& ref : refs) {
    const bool sentry = ref.role == ProcessRole::kSentry;
    StatusOr<HostProcess> p = proc_.Read(ref.pid, ref.role, sentry ? sandbox.pid_start_time : 0);
    if (!p.ok()) {
      // Without the sentry the rest would be half a sandbox.
      if (sentry) return p.status();
      if (p.status().reason() != Reason::kNotFound && errors_ != nullptr) {
        errors_->Report("procfs", p.status().WithContext("pid " + std::to_string(ref.pid)),
                        sandbox.id);
      }
      continue;
    }
    p->container_id = ref.container_id;
    out.push_back(std::move(p).value());
  }
  return out;
}

StatusOr<HostCgroup> HostReader::Cgroup(const SandboxInfo& sandbox) const {
  return cgroup_.Read(sandbox.cgroup);
}

StatusOr<SandboxPlatform> HostReader::Platform(const SandboxInfo& sandbox) const {
  std::string version = options_.runsc_version;
  if (version.empty()) {
    auto it = sandbox.metric_metadata.find("version");
    if (it != sandbox.metric_metadata.end()) version = it->second;
  }
  StatusOr<std::vector<std::string>> argv = proc_.ReadCmdline(sandbox.pid, sandbox.pid_start_time);
  const bool have_metadata = sandbox.metric_metadata.count("platform") > 0;
  if (!argv.ok()) {
    if (have_metadata) return PlatformFromMetadata(sandbox.metric_metadata);
    return argv.status();
  }
  SandboxPlatform from_cmdline = PlatformFromCmdline(*argv, version);
  if (!have_metadata) return from_cmdline;
  return MergePlatform(PlatformFromMetadata(sandbox.metric_metadata), from_cmdline);
}

}  // namespace gvisor_exporter
