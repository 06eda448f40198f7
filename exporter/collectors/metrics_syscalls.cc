// Syscall statistics of sandboxes with a trace session (runtime monitoring),
// and the node's trace packet counts.
#include <array>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/collectors/metric_catalog.h"

namespace gvisor_exporter {

namespace {

// The container label of a traced container id: the CRI name of a container
// the state directory knows ("" for the pause container), else the id itself
// (a container that started after the last discovery).
std::string_view ContainerLabel(const SandboxInfo& info, const std::string& id) {
  for (const ContainerInfo& c : info.containers) {
    if (c.id == id) return c.name;
  }
  return id;
}

// The sandbox's syscall statistics when its counts are served: it has a
// session, and the session is active or has counted before. Sampled counts
// go out only under the *_sampled_total names, exact ones only under the
// others.
const SandboxSyscalls* Counted(const SandboxSnapshot& s, bool sampled) {
  if (!s.syscalls) return nullptr;
  const SandboxSyscalls& sc = *s.syscalls;
  if (sc.state != TraceSessionState::kActive && sc.containers.empty()) return nullptr;
  return sc.sampled == sampled ? &sc : nullptr;
}

// Emits sums of samples with equal label values (two ids may map to one
// container label), in label order.
template <size_t N>
void Summed(const std::map<std::array<std::string_view, N>, uint64_t>& sums, Samples& w) {
  for (const auto& [labels, v] : sums) {
    if constexpr (N == 2) w.Add({labels[0], labels[1]}, static_cast<double>(v));
    if constexpr (N == 3) w.Add({labels[0], labels[1], labels[2]}, static_cast<double>(v));
  }
}

// Counts by (container, syscall): calls or unimplemented.
template <std::vector<std::pair<std::string, uint64_t>> ContainerSyscalls::*counts, bool sampled>
void BySyscall(const SandboxSnapshot& s, Samples& w) {
  const SandboxSyscalls* sc = Counted(s, sampled);
  if (sc == nullptr) return;
  std::map<std::array<std::string_view, 2>, uint64_t> sums;
  for (const ContainerSyscalls& cs : sc->containers) {
    const std::string_view name = ContainerLabel(s.info, cs.container_id);
    for (const auto& [sys, n] : cs.*counts) sums[{name, sys}] += n;
  }
  Summed(sums, w);
}

// Errors by (container, syscall, errno).
template <bool sampled>
void Errors(const SandboxSnapshot& s, Samples& w) {
  const SandboxSyscalls* sc = Counted(s, sampled);
  if (sc == nullptr) return;
  std::map<std::array<std::string_view, 3>, uint64_t> sums;
  for (const ContainerSyscalls& cs : sc->containers) {
    const std::string_view name = ContainerLabel(s.info, cs.container_id);
    for (const auto& e : cs.errors) sums[{name, e.syscall, e.errno_name}] += e.count;
  }
  Summed(sums, w);
}

const MetricRow kRows[] = {
    {.name = "gvisor_container_syscalls_total",
     .type = MetricType::Counter,
     .help = "Syscalls a container's tasks made, by syscall name (raw syscall enter events of the "
             "sandbox's trace session; only for sandboxes with syscall statistics on). Per "
             "container the first --syscalls.max-per-container syscalls get a series, later ones "
             "count under syscall=\"other\". container is the CRI container name (\"\" for the "
             "pause container) or, for a container not (yet) in the state directory, its id.",
     .labels = {SANDBOX_LABELS, "container", "syscall"},
     .group = "Syscalls",
     .sandbox = BySyscall<&ContainerSyscalls::calls, false>},
    {.name = "gvisor_container_syscall_errors_total",
     .type = MetricType::Counter,
     .help = "Syscalls that returned an error, by syscall and errno name (exit events; needs "
             "--syscalls.errors). Per container the first --syscalls.max-errors-per-container "
             "pairs get a series, later ones count under syscall=\"other\",errno=\"other\".",
     .labels = {SANDBOX_LABELS, "container", "syscall", "errno"},
     .group = "Syscalls",
     .sandbox = Errors<false>},
    {.name = "gvisor_container_syscalls_unimplemented_total",
     .type = MetricType::Counter,
     .help =
         "Syscalls that failed with ENOSYS, i.e. that gVisor does not implement (or not for these "
         "arguments), by syscall name (needs --syscalls.errors).",
     .labels = {SANDBOX_LABELS, "container", "syscall"},
     .group = "Syscalls",
     .sandbox = BySyscall<&ContainerSyscalls::unimplemented, false>},
    // Sampling (--syscalls.sample): the same counts, under names of their own,
    // because they cover only the traced windows.
    {.name = "gvisor_container_syscalls_sampled_total",
     .type = MetricType::Counter,
     .help =
         "Syscalls a container's tasks made while the sandbox was traced, for sandboxes sampled "
         "with "
         "--syscalls.sample (instead of gvisor_container_syscalls_total): a sample, not a total. "
         "Estimate the rate as rate(this) / rate(gvisor_sandbox_syscall_traced_seconds_total) "
         "(recording rule namespace_pod_container:gvisor_container_syscalls:estimated_rate5m).",
     .labels = {SANDBOX_LABELS, "container", "syscall"},
     .group = "Syscalls",
     .sandbox = BySyscall<&ContainerSyscalls::calls, true>},
    {.name = "gvisor_container_syscall_errors_sampled_total",
     .type = MetricType::Counter,
     .help = "gvisor_container_syscall_errors_total for sandboxes sampled with --syscalls.sample: "
             "errors seen while the sandbox was traced.",
     .labels = {SANDBOX_LABELS, "container", "syscall", "errno"},
     .group = "Syscalls",
     .sandbox = Errors<true>},
    {.name = "gvisor_container_syscalls_unimplemented_sampled_total",
     .type = MetricType::Counter,
     .help = "gvisor_container_syscalls_unimplemented_total for sandboxes sampled with "
             "--syscalls.sample: ENOSYS seen while the sandbox was traced.",
     .labels = {SANDBOX_LABELS, "container", "syscall"},
     .group = "Syscalls",
     .sandbox = BySyscall<&ContainerSyscalls::unimplemented, true>},
    {.name = "gvisor_sandbox_syscall_traced_seconds_total",
     .type = MetricType::Counter,
     .help = "Time the sandbox had a trace session, for sandboxes sampled with --syscalls.sample "
             "(about ON/PERIOD of the time; window ends fall on polls): what the *_sampled_total "
             "counters cover.",
     .labels = {SANDBOX_LABELS},
     .group = "Syscalls",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (s.syscalls && s.syscalls->sampled) w.Add({}, s.syscalls->traced_seconds);
         }},
    {.name = "gvisor_sandbox_syscall_events_dropped_total",
     .type = MetricType::Counter,
     .help =
         "Trace events the sentry dropped instead of waiting for the exporter (its sink was full): "
         "the syscall counters of this sandbox undercount by this much. Never slows the workload.",
     .labels = {SANDBOX_LABELS},
     .group = "Syscalls",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           const SandboxSyscalls* sc = Counted(s, s.syscalls && s.syscalls->sampled);
           if (sc != nullptr) w.Add({}, static_cast<double>(sc->dropped_events));
         }},
    {.name = "gvisor_sandbox_syscall_session_state",
     .type = MetricType::Gauge,
     .help =
         "State of the sandbox's syscall statistics, one series per state (active: events flowing; "
         "foreign: another consumer owns the sandbox's trace session and is left alone; error: "
         "attaching failed or the session was lost, retried with backoff; paused: sampling, "
         "between "
         "two traced windows, only with --syscalls.sample), 1 for the current one. "
         "mode is attach (the exporter created the session) or listen (pod-init config).",
     .labels = {SANDBOX_LABELS, "mode", "state"},
     .group = "Syscalls",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (!s.syscalls) return;
           const SandboxSyscalls& sc = *s.syscalls;
           for (TraceSessionState st : {TraceSessionState::kActive, TraceSessionState::kForeign,
                                        TraceSessionState::kError, TraceSessionState::kPaused}) {
             if (st == TraceSessionState::kPaused && !sc.sampled) continue;
             w.Add({sc.mode, TraceSessionStateName(st)}, st == sc.state ? 1 : 0);
           }
         }},
    {.name = "gvisor_exporter_trace_packets_total",
     .type = MetricType::Counter,
     .help = "Trace packets received from all sandboxes, by what became of them (syscall, "
             "ignored, unknown_type, malformed, truncated, invalid_sysno, handshake).",
     .labels = {"result"},
     .group = "Syscalls",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           if (!snap.trace_packets) return;
           const TracePacketCounts& p = *snap.trace_packets;
           const std::pair<const char*, uint64_t> results[] = {
               {"syscall", p.syscall},           {"ignored", p.ignored},
               {"unknown_type", p.unknown_type}, {"malformed", p.malformed},
               {"truncated", p.truncated},       {"invalid_sysno", p.invalid_sysno},
               {"handshake", p.handshake}};
           for (const auto& [r, v] : results) w.Add({r}, static_cast<double>(v));
         }},
    {.name = "gvisor_exporter_trace_reader_scheduling",
     .type = MetricType::Gauge,
     .help = "How the thread reading trace events is scheduled, one series per policy, 1 for "
             "the current one: realtime (SCHED_FIFO, --syscalls.reader-priority), nice (nice "
             "-10: realtime was refused, e.g. without CAP_SYS_NICE), normal (both refused). "
             "Below realtime, busy sandboxes on a loaded node can outrun the reader and drop "
             "events.",
     .labels = {"policy"},
     .group = "Syscalls",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           if (snap.trace_reader_scheduling.empty()) return;
           for (const char* policy : {"realtime", "nice", "normal"}) {
             w.Add({policy}, snap.trace_reader_scheduling == policy ? 1 : 0);
           }
         }},
};

}  // namespace

std::span<const MetricRow> SyscallMetrics() { return kRows; }

}  // namespace gvisor_exporter
