#include <array>

#include "exporter/collectors/family_builder.h"
#include "exporter/collectors/render.h"
#include "exporter/collectors/render_internal.h"

namespace gvisor_exporter {

namespace {

// Per-role sums over a sandbox's host processes.
struct RoleTotals {
  uint64_t processes = 0, pss = 0, rss = 0, threads = 0, vcs = 0, ivcs = 0, minflt = 0, majflt = 0;
  double user = 0, system = 0;
};

constexpr std::array<ProcessRole, 4> kRoles = {ProcessRole::kSentry, ProcessRole::kGofer,
                                               ProcessRole::kStub, ProcessRole::kOther};

}  // namespace

void RenderHostCost(const NodeSnapshot& snap, Families* out) {
  RenderHostCost(SandboxRange::All(snap), false, out);
}

void RenderHostCost(SandboxRange sandboxes, bool keep_empty, Families* out) {
  using namespace metric;  // NOLINT(google-build-using-namespace)
  RangeFamilyBuilder procs(kHostProcesses), pss(kHostPss), rss(kHostRss), cpu(kHostCpu),
      threads(kHostThreads), cs(kHostContextSwitches), faults(kHostPageFaults),
      cg_mem(kCgroupMemoryUsage), cg_ws(kCgroupMemoryWorkingSet), cg_stat(kCgroupMemoryStat),
      cg_cpu_usage(kCgroupCpuUsage), cg_cpu(kCgroupCpu), overhead(kMemoryOverhead),
      overhead_cg(kMemoryOverheadCgroup);
  for (const SandboxSnapshot& s : sandboxes) {
    const auto l = SandboxLabels(s.info);
    if (!s.processes.empty()) {
      std::array<RoleTotals, kRoles.size()> t{};
      uint64_t pss_sum = 0;
      for (const HostProcess& p : s.processes) {
        pss_sum += p.pss_bytes;
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
        const std::string role = ProcessRoleName(kRoles[r]);
        const RoleTotals& x = t[r];
        // sentry/gofer/stub series always exist (stable series); the rare,
        // short-lived "other" helpers only while one runs.
        if (kRoles[r] == ProcessRole::kOther && x.processes == 0) continue;
        const auto lr = With(l, {role});
        procs.Add(lr, static_cast<double>(x.processes));
        pss.Add(lr, static_cast<double>(x.pss));
        rss.Add(lr, static_cast<double>(x.rss));
        threads.Add(lr, static_cast<double>(x.threads));
        cpu.Add(With(l, {role, "user"}), x.user);
        cpu.Add(With(l, {role, "system"}), x.system);
        cs.Add(With(l, {role, "voluntary"}), static_cast<double>(x.vcs));
        cs.Add(With(l, {role, "involuntary"}), static_cast<double>(x.ivcs));
        faults.Add(With(l, {role, "minor"}), static_cast<double>(x.minflt));
        faults.Add(With(l, {role, "major"}), static_cast<double>(x.majflt));
      }
      if (s.usage.memory) {
        overhead.Add(l, static_cast<double>(pss_sum) - static_cast<double>(s.usage.memory->total));
      }
    }
    if (s.cgroup) {
      const HostCgroup& c = *s.cgroup;
      if (c.memory_usage_bytes) {
        cg_mem.Add(l, static_cast<double>(*c.memory_usage_bytes));
        if (s.usage.memory) {
          overhead_cg.Add(l, static_cast<double>(*c.memory_usage_bytes) -
                                 static_cast<double>(s.usage.memory->total));
        }
      }
      if (c.memory_working_set_bytes)
        cg_ws.Add(l, static_cast<double>(*c.memory_working_set_bytes));
      const std::pair<const char*, const std::optional<uint64_t>*> stats[] = {
          {"rss", &c.memory_rss_bytes},
          {"cache", &c.memory_cache_bytes},
          {"shmem", &c.memory_shmem_bytes},
          {"mapped_file", &c.memory_mapped_file_bytes}};
      for (const auto& [type, v] : stats) {
        if (*v) cg_stat.Add(With(l, {type}), static_cast<double>(**v));
      }
      if (c.cpu_usage_seconds) cg_cpu_usage.Add(l, *c.cpu_usage_seconds);
      if (c.cpu_user_seconds) cg_cpu.Add(With(l, {"user"}), *c.cpu_user_seconds);
      if (c.cpu_system_seconds) cg_cpu.Add(With(l, {"system"}), *c.cpu_system_seconds);
    }
  }
  for (RangeFamilyBuilder* f : {&procs, &pss, &rss, &cpu, &threads, &cs, &faults, &cg_mem, &cg_ws,
                                &cg_stat, &cg_cpu_usage, &cg_cpu, &overhead, &overhead_cg}) {
    f->MoveTo(out, keep_empty);
  }
}

}  // namespace gvisor_exporter
