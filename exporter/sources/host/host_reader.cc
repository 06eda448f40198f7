#include "exporter/sources/host/host_reader.h"

#include <utility>

#include "exporter/sources/host/platform.h"

namespace gvisor_exporter {

HostReader::HostReader(HostReaderOptions options, ErrorReporter* errors)
    : options_(std::move(options)),
      errors_(errors),
      proc_(options_.proc),
      cgroup_(options_.cgroup_root) {}

namespace {

std::vector<std::pair<std::string, int64_t>> GoferPids(const SandboxInfo& sandbox) {
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(sandbox.containers.size());
  for (const ContainerInfo& c : sandbox.containers) out.emplace_back(c.id, c.gofer_pid);
  return out;
}

}  // namespace

HostReader::Remembered& HostReader::EntryLocked(const SandboxInfo& sandbox) {
  Remembered& r = remembered_[SandboxKey(sandbox)];
  if (r.sentry_pid != sandbox.pid || r.sentry_start != sandbox.pid_start_time) {
    r = Remembered();
    r.sentry_pid = sandbox.pid;
    r.sentry_start = sandbox.pid_start_time;
  }
  return r;
}

std::optional<std::vector<ProcessRef>> HostReader::RememberedRefs(
    const SandboxInfo& sandbox, const std::vector<int64_t>& members) {
  std::lock_guard<std::mutex> lock(mu_);
  const Remembered& r = EntryLocked(sandbox);
  if (r.refs.empty() || r.members != members || r.gofers != GoferPids(sandbox)) {
    return std::nullopt;
  }
  return r.refs;
}

void HostReader::Remember(const SandboxInfo& sandbox, std::vector<int64_t> members,
                          std::vector<ProcessRef> refs) {
  std::lock_guard<std::mutex> lock(mu_);
  Remembered& r = EntryLocked(sandbox);
  r.gofers = GoferPids(sandbox);
  r.members = std::move(members);
  r.refs = std::move(refs);
}

StatusOr<std::vector<HostProcess>> HostReader::Processes(const SandboxInfo& sandbox) {
  // A start time tells the remembered sentry from a reuse of its pid; without
  // one (very old state files), or without cgroup members to compare, search.
  std::optional<std::vector<int64_t>> members;
  if (options_.reuse_process_set && sandbox.pid_start_time != 0 &&
      sandbox.cgroup.kind != CgroupRef::Kind::kNone) {
    StatusOr<std::vector<int64_t>> m = cgroup_.Members(sandbox.cgroup);
    if (m.ok()) members = std::move(m).value();
  }
  std::optional<std::vector<ProcessRef>> remembered;
  if (members) remembered = RememberedRefs(sandbox, *members);
  const bool found_remembered = remembered.has_value();  // `remembered` is moved from next
  const std::vector<ProcessRef> refs =
      found_remembered ? std::move(remembered).value() : proc_.FindSandboxProcesses(sandbox);
  if (refs.empty() || refs.front().role != ProcessRole::kSentry) {
    return NotFoundError("sentry " + std::to_string(sandbox.pid) + " is gone");
  }
  std::vector<HostProcess> out;
  out.reserve(refs.size());
  bool vanished = false;
  std::vector<ProcessRef> expected = refs;
  if (expected.front().start_time == 0) expected.front().start_time = sandbox.pid_start_time;
  std::vector<StatusOr<HostProcess>> read = proc_.ReadMany(expected);
  for (size_t i = 0; i < refs.size(); ++i) {
    const ProcessRef& ref = refs[i];
    const bool sentry = ref.role == ProcessRole::kSentry;
    StatusOr<HostProcess>& p = read[i];
    if (!p.ok()) {
      // Without the sentry the rest would be half a sandbox.
      if (sentry) return p.status();
      vanished = vanished || p.status().reason() == Reason::kNotFound;
      if (p.status().reason() != Reason::kNotFound && errors_ != nullptr) {
        errors_->Report("procfs", p.status().WithContext("pid " + std::to_string(ref.pid)),
                        sandbox.id);
      }
      continue;
    }
    p->container_id = ref.container_id;
    out.push_back(std::move(p).value());
  }
  // A member gone (or its pid reused) means the set changed: search next time.
  if (members && !found_remembered) {
    Remember(sandbox, vanished ? std::vector<int64_t>{} : std::move(members).value(),
             vanished ? std::vector<ProcessRef>{} : refs);
  } else if (found_remembered && vanished) {
    Remember(sandbox, {}, {});
  }
  return out;
}

void HostReader::Retain(const std::set<std::string>& live) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::erase_if(remembered_, [&](const auto& kv) { return live.count(kv.first) == 0; });
  }
  proc_.EndRound();
  cgroup_.EndRound();
}

StatusOr<HostCgroup> HostReader::Cgroup(const SandboxInfo& sandbox) const {
  return cgroup_.Read(sandbox.cgroup);
}

StatusOr<SandboxPlatform> HostReader::Platform(const SandboxInfo& sandbox) {
  std::string version = options_.runsc_version;
  if (version.empty()) {
    auto it = sandbox.metric_metadata.find("version");
    if (it != sandbox.metric_metadata.end()) version = it->second;
  }
  // A sentry's command line is fixed for its life: read once per incarnation.
  std::optional<std::vector<std::string>> known;
  if (sandbox.pid_start_time != 0) {
    std::lock_guard<std::mutex> lock(mu_);
    known = EntryLocked(sandbox).sentry_argv;
  }
  const bool was_known = known.has_value();  // `known` is moved from next
  StatusOr<std::vector<std::string>> argv =
      was_known ? StatusOr<std::vector<std::string>>(std::move(known).value())
                : proc_.ReadCmdline(sandbox.pid, sandbox.pid_start_time);
  if (argv.ok() && !was_known && sandbox.pid_start_time != 0) {
    std::lock_guard<std::mutex> lock(mu_);
    EntryLocked(sandbox).sentry_argv = *argv;
  }
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
