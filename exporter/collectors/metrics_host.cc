// The host cost of each sandbox: its host processes by role, its host cgroup,
// and gVisor's memory overhead derived from them.
#include <array>
#include <optional>
#include <string>
#include <utility>

#include "exporter/collectors/metric_catalog.h"

namespace gvisor_exporter {

namespace {

// Per-role sums over a sandbox's host processes.
struct RoleTotals {
  uint64_t processes = 0, pss = 0, rss = 0, threads = 0, vcs = 0, ivcs = 0, minflt = 0, majflt = 0;
  double user = 0, system = 0;
};

constexpr std::array<ProcessRole, 4> kRoles = {ProcessRole::kSentry, ProcessRole::kGofer,
                                               ProcessRole::kStub, ProcessRole::kOther};

// Calls emit(role name, totals) for each role of the sandbox's processes that
// gets series: sentry, gofer and stub always (stable series), the rare,
// short-lived "other" helpers only while one runs. None without processes.
template <typename Emit>
void ForEachRole(const SandboxSnapshot& s, const Emit& emit) {
  if (s.processes.empty()) return;
  std::array<RoleTotals, kRoles.size()> t{};
  for (const HostProcess& p : s.processes) {
    for (size_t r = 0; r < kRoles.size(); ++r) {
      if (p.role != kRoles[r]) continue;
      RoleTotals& x = t[r];
      ++x.processes;
      x.pss += p.pss_bytes;
      x.rss += p.rss_bytes;
      x.threads += p.threads;
      x.vcs += p.voluntary_ctxt_switches;
      x.ivcs += p.nonvoluntary_ctxt_switches;
      x.minflt += p.minor_faults;
      x.majflt += p.major_faults;
      x.user += p.cpu_user_seconds;
      x.system += p.cpu_system_seconds;
    }
  }
  for (size_t r = 0; r < kRoles.size(); ++r) {
    if (kRoles[r] == ProcessRole::kOther && t[r].processes == 0) continue;
    emit(ProcessRoleName(kRoles[r]), t[r]);
  }
}

// A per-role total as one sample per role.
template <uint64_t RoleTotals::*field>
void PerRole(const SandboxSnapshot& s, Samples& w) {
  ForEachRole(s, [&](std::string_view role, const RoleTotals& x) {
    w.Add({role}, static_cast<double>(x.*field));
  });
}

// An optional cgroup figure.
template <typename T, std::optional<T> HostCgroup::*field>
void Cgroup(const SandboxSnapshot& s, Samples& w) {
  if (s.cgroup && (*s.cgroup).*field) w.Add({}, static_cast<double>(*((*s.cgroup).*field)));
}

const MetricRow kRows[] = {
    {.name = "gvisor_sandbox_host_processes",
     .type = MetricType::Gauge,
     .help =
         "Host processes of the sandbox by role: sentry, gofer (one per container), stub (platform "
         "stub processes, descendants of the sentry that run the application: ptrace and systrap "
         "have them, kvm none; see docs/platforms.md), other (short-lived runsc helpers the sentry "
         "starts, e.g. its umount helper).",
     .labels = {SANDBOX_LABELS, "role"},
     .group = "Host cost",
     .sandbox = PerRole<&RoleTotals::processes>},
    {.name = "gvisor_sandbox_host_memory_pss_bytes",
     .type = MetricType::Gauge,
     .help = "Proportional set size (smaps_rollup Pss) of the sandbox's host processes by role; "
             "re-read when the sandbox's RSS or the node's runsc process count moves it, or "
             "--collector.host.pss-max-age passes.",
     .labels = {SANDBOX_LABELS, "role"},
     .group = "Host cost",
     .sandbox = PerRole<&RoleTotals::pss>},
    {.name = "gvisor_sandbox_host_memory_rss_bytes",
     .type = MetricType::Gauge,
     .help = "Resident set size (/proc stat or smaps_rollup) of the sandbox's host processes by "
             "role; sums double count shared pages, prefer PSS.",
     .labels = {SANDBOX_LABELS, "role"},
     .group = "Host cost",
     .sandbox = PerRole<&RoleTotals::rss>},
    {.name = "gvisor_sandbox_host_cpu_seconds_total",
     .type = MetricType::Counter,
     .help = "CPU time of the sandbox's live host processes by role and mode (user, system). "
             "Exited stub processes drop out of the sum (a counter reset).",
     .labels = {SANDBOX_LABELS, "role", "mode"},
     .group = "Host cost",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           ForEachRole(s, [&](std::string_view role, const RoleTotals& x) {
             w.Add({role, "user"}, x.user);
             w.Add({role, "system"}, x.system);
           });
         }},
    {.name = "gvisor_sandbox_host_threads",
     .type = MetricType::Gauge,
     .help = "Threads of the sandbox's host processes by role.",
     .labels = {SANDBOX_LABELS, "role"},
     .group = "Host cost",
     .sandbox = PerRole<&RoleTotals::threads>},
    {.name = "gvisor_sandbox_host_context_switches_total",
     .type = MetricType::Counter,
     .help = "Context switches of the sandbox's host processes (all threads) by role and type "
             "(voluntary, involuntary).",
     .labels = {SANDBOX_LABELS, "role", "type"},
     .group = "Host cost",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           ForEachRole(s, [&](std::string_view role, const RoleTotals& x) {
             w.Add({role, "voluntary"}, static_cast<double>(x.vcs));
             w.Add({role, "involuntary"}, static_cast<double>(x.ivcs));
           });
         }},
    {.name = "gvisor_sandbox_host_page_faults_total",
     .type = MetricType::Counter,
     .help = "Page faults of the sandbox's host processes by role and type (minor, major).",
     .labels = {SANDBOX_LABELS, "role", "type"},
     .group = "Host cost",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           ForEachRole(s, [&](std::string_view role, const RoleTotals& x) {
             w.Add({role, "minor"}, static_cast<double>(x.minflt));
             w.Add({role, "major"}, static_cast<double>(x.majflt));
           });
         }},
    {.name = "gvisor_sandbox_cgroup_memory_usage_bytes",
     .type = MetricType::Gauge,
     .help = "Memory charged to the sandbox's host cgroup (v1 memory.usage_in_bytes, v2 "
             "memory.current).",
     .labels = {SANDBOX_LABELS},
     .group = "Host cost",
     .sandbox = Cgroup<uint64_t, &HostCgroup::memory_usage_bytes>},
    {.name = "gvisor_sandbox_cgroup_memory_working_set_bytes",
     .type = MetricType::Gauge,
     .help = "Working set of the sandbox's host cgroup: usage minus inactive_file (cAdvisor's "
             "definition).",
     .labels = {SANDBOX_LABELS},
     .group = "Host cost",
     .sandbox = Cgroup<uint64_t, &HostCgroup::memory_working_set_bytes>},
    {.name = "gvisor_sandbox_cgroup_memory_stat_bytes",
     .type = MetricType::Gauge,
     .help = "Selected memory.stat entries of the sandbox's host cgroup (type: rss, cache, shmem, "
             "mapped_file). gVisor keeps application memory in a memfd, which the host counts as "
             "shmem.",
     .labels = {SANDBOX_LABELS, "type"},
     .group = "Host cost",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (!s.cgroup) return;
           const HostCgroup& c = *s.cgroup;
           const std::pair<const char*, const std::optional<uint64_t>*> stats[] = {
               {"rss", &c.memory_rss_bytes},
               {"cache", &c.memory_cache_bytes},
               {"shmem", &c.memory_shmem_bytes},
               {"mapped_file", &c.memory_mapped_file_bytes}};
           for (const auto& [type, v] : stats) {
             if (*v) w.Add({type}, static_cast<double>(**v));
           }
         }},
    {.name = "gvisor_sandbox_cgroup_cpu_usage_seconds_total",
     .type = MetricType::Counter,
     .help = "CPU time charged to the sandbox's host cgroup (v1 cpuacct.usage, v2 cpu.stat "
             "usage_usec).",
     .labels = {SANDBOX_LABELS},
     .group = "Host cost",
     .sandbox = Cgroup<double, &HostCgroup::cpu_usage_seconds>},
    {.name = "gvisor_sandbox_cgroup_cpu_seconds_total",
     .type = MetricType::Counter,
     .help = "CPU time charged to the sandbox's host cgroup by mode (user, system).",
     .labels = {SANDBOX_LABELS, "mode"},
     .group = "Host cost",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (!s.cgroup) return;
           if (s.cgroup->cpu_user_seconds) w.Add({"user"}, *s.cgroup->cpu_user_seconds);
           if (s.cgroup->cpu_system_seconds) w.Add({"system"}, *s.cgroup->cpu_system_seconds);
         }},
    {.name = "gvisor_sandbox_memory_overhead_bytes",
     .type = MetricType::Gauge,
     .help =
         "gVisor's memory overhead: host memory of the sandbox minus the in-sandbox Total. Host "
         "memory "
         "is "
         "the sum of PSS over the sentry, gofers and stubs, because PSS splits shared pages (the "
         "runsc "
         "binary, the memory file mapped by several processes) fairly and does not depend on which "
         "cgroup first touched a page. May be briefly negative when the app allocates between the "
         "reads.",
     .labels = {SANDBOX_LABELS},
     .group = "Overhead",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (s.processes.empty() || !s.usage.memory) return;
           uint64_t pss = 0;
           for (const HostProcess& p : s.processes) pss += p.pss_bytes;
           w.Add({}, static_cast<double>(pss) - static_cast<double>(s.usage.memory->total));
         }},
    {.name = "gvisor_sandbox_memory_overhead_cgroup_bytes",
     .type = MetricType::Gauge,
     .help = "The same overhead measured against the sandbox's host cgroup usage instead of PSS "
             "(what the kernel charges the pod; excludes shared page cache first charged "
             "elsewhere).",
     .labels = {SANDBOX_LABELS},
     .group = "Overhead",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (!s.cgroup || !s.cgroup->memory_usage_bytes || !s.usage.memory) return;
           w.Add({}, static_cast<double>(*s.cgroup->memory_usage_bytes) -
                         static_cast<double>(s.usage.memory->total));
         }},
};

}  // namespace

std::span<const MetricRow> HostMetrics() { return kRows; }

}  // namespace gvisor_exporter
