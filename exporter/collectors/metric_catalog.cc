#include "exporter/collectors/metric_catalog.h"

#include <sstream>

namespace gvisor_exporter {
namespace metric {

using prometheus::MetricType;
#define SB "namespace", "pod", "sandbox_id"

// --- Sandboxes and containers (from the runsc state directory) -------------
const MetricDef kSandboxInfo{
    "gvisor_sandbox_info",
    MetricType::Gauge,
    "Always 1: one series per running gVisor sandbox (pod), with its pod "
    "uid, the runsc root it was found under, its sentry host pid, and "
    "the pod's RuntimeClass handler and name from CRI (both \"\" when "
    "CRI is off, down or does not list the pod).",
    {SB, "pod_uid", "root", "sentry_pid", "runtime_handler", "runtime_class"},
    "Sandboxes"};
const MetricDef kContainerInfo{
    "gvisor_container_info",
    MetricType::Gauge,
    "Always 1: one series per container of a sandbox (the pause container has container=\"\"), "
    "with its runsc container id, image and runsc status.",
    {SB, "container", "container_id", "image", "status"},
    "Sandboxes"};
const MetricDef kSandboxPlatformInfo{
    "gvisor_sandbox_platform_info",
    MetricType::Gauge,
    "Always 1: platform and configuration the sandbox runs with (from the sentry command line with "
    "the runsc release's defaults, or metricMetadata of newer state files; `source` says which).",
    {SB, "platform", "network", "file_access", "overlay", "debug", "strace", "pod_init_config",
     "source"},
    "Sandboxes"};
const MetricDef kSandboxStatsPathInfo{
    "gvisor_sandbox_stats_path_info",
    MetricType::Gauge,
    "Always 1: which path served this sandbox's in-sandbox usage at the last poll: control_socket "
    "(urpc, preferred), cli (runsc events/usage fallback) or none (both failed).",
    {SB, "path"},
    "Sandboxes"};

// --- In-sandbox usage (sentry accounting) -----------------------------------
const MetricDef kSandboxMemoryTotal{"gvisor_sandbox_memory_total_bytes",
                                    MetricType::Gauge,
                                    "Memory used inside the sandbox as accounted by the sentry "
                                    "(Usage.Collect / `runsc usage` Total).",
                                    {SB},
                                    "In-sandbox usage"};
const MetricDef kSandboxMemory{
    "gvisor_sandbox_memory_bytes",
    MetricType::Gauge,
    "Memory used inside the sandbox by category (anonymous, page_cache, mapped, tmpfs, ramdiskfs, "
    "system, unknown); the categories add up to gvisor_sandbox_memory_total_bytes.",
    {SB, "category"},
    "In-sandbox usage"};
const MetricDef kSandboxPids{
    "gvisor_sandbox_pids",
    MetricType::Gauge,
    "Tasks (threads) running inside the sandbox, as counted by the sentry.",
    {SB},
    "In-sandbox usage"};
const MetricDef kSandboxNetworkReceiveBytes{
    "gvisor_sandbox_network_receive_bytes_total",
    MetricType::Counter,
    "Bytes received on an interface of the sandbox's network stack, as the sentry reports it "
    "(containerManager.Event; runsc >= 2023, absent on older releases). A pod network "
    "(--network=sandbox) shows the pod's interfaces; without one (--network=none or host) runsc "
    "20240729 lists only lo, with counters at 0. At most 32 interfaces per sandbox.",
    {SB, "interface"},
    "In-sandbox usage"};
const MetricDef kSandboxNetworkReceivePackets{
    "gvisor_sandbox_network_receive_packets_total",
    MetricType::Counter,
    "Packets received on an interface of the sandbox's network stack.",
    {SB, "interface"},
    "In-sandbox usage"};
const MetricDef kSandboxNetworkReceiveErrors{
    "gvisor_sandbox_network_receive_errors_total",
    MetricType::Counter,
    "Receive errors on an interface of the sandbox's network stack (always 0 on the sentry's "
    "own stack).",
    {SB, "interface"},
    "In-sandbox usage"};
const MetricDef kSandboxNetworkReceiveDropped{
    "gvisor_sandbox_network_receive_packets_dropped_total",
    MetricType::Counter,
    "Received packets dropped on an interface of the sandbox's network stack (always 0 on the "
    "sentry's own stack).",
    {SB, "interface"},
    "In-sandbox usage"};
const MetricDef kSandboxNetworkTransmitBytes{
    "gvisor_sandbox_network_transmit_bytes_total",
    MetricType::Counter,
    "Bytes transmitted on an interface of the sandbox's network stack.",
    {SB, "interface"},
    "In-sandbox usage"};
const MetricDef kSandboxNetworkTransmitPackets{
    "gvisor_sandbox_network_transmit_packets_total",
    MetricType::Counter,
    "Packets transmitted on an interface of the sandbox's network stack.",
    {SB, "interface"},
    "In-sandbox usage"};
const MetricDef kSandboxNetworkTransmitErrors{
    "gvisor_sandbox_network_transmit_errors_total",
    MetricType::Counter,
    "Transmit errors on an interface of the sandbox's network stack (always 0 on the sentry's "
    "own stack).",
    {SB, "interface"},
    "In-sandbox usage"};
const MetricDef kSandboxNetworkTransmitDropped{
    "gvisor_sandbox_network_transmit_packets_dropped_total",
    MetricType::Counter,
    "Transmitted packets dropped on an interface of the sandbox's network stack (always 0 on "
    "the sentry's own stack).",
    {SB, "interface"},
    "In-sandbox usage"};
const MetricDef kContainerCpu{
    "gvisor_container_cpu_seconds_total",
    MetricType::Counter,
    "CPU time of a container's tasks as accounted by the sentry (10 ms granularity). Absent when "
    "the CLI path served the sandbox (runsc's CLI only has a cgroup-derived split).",
    {SB, "container"},
    "In-sandbox usage"};
const MetricDef kSandboxCpu{
    "gvisor_sandbox_cpu_seconds_total",
    MetricType::Counter,
    "CPU time of all tasks inside the sandbox (sum over its containers). Compare its rate with "
    "gvisor_sandbox_cgroup_cpu_usage_seconds_total: the difference is gVisor's CPU overhead.",
    {SB},
    "In-sandbox usage"};

// --- Host cost ---------------------------------------------------------------
const MetricDef kHostProcesses{
    "gvisor_sandbox_host_processes",
    MetricType::Gauge,
    "Host processes of the sandbox by role: sentry, gofer (one per container), stub (platform "
    "stub processes, descendants of the sentry that run the application: ptrace and systrap "
    "have them, kvm none; see docs/platforms.md), other (short-lived runsc helpers the sentry "
    "starts, e.g. its umount helper).",
    {SB, "role"},
    "Host cost"};
const MetricDef kHostPss{
    "gvisor_sandbox_host_memory_pss_bytes",
    MetricType::Gauge,
    "Proportional set size (smaps_rollup Pss) of the sandbox's host processes by role; re-read "
    "when the sandbox's RSS or the node's runsc process count moves it, or "
    "--collector.host.pss-max-age passes.",
    {SB, "role"},
    "Host cost"};
const MetricDef kHostRss{"gvisor_sandbox_host_memory_rss_bytes",
                         MetricType::Gauge,
                         "Resident set size (/proc stat or smaps_rollup) of the sandbox's host "
                         "processes by role; sums double count shared pages, prefer PSS.",
                         {SB, "role"},
                         "Host cost"};
const MetricDef kHostCpu{
    "gvisor_sandbox_host_cpu_seconds_total",
    MetricType::Counter,
    "CPU time of the sandbox's live host processes by role and mode (user, system). Exited stub "
    "processes drop out of the sum (a counter reset).",
    {SB, "role", "mode"},
    "Host cost"};
const MetricDef kHostThreads{"gvisor_sandbox_host_threads",
                             MetricType::Gauge,
                             "Threads of the sandbox's host processes by role.",
                             {SB, "role"},
                             "Host cost"};
const MetricDef kHostContextSwitches{
    "gvisor_sandbox_host_context_switches_total",
    MetricType::Counter,
    "Context switches of the sandbox's host processes (all threads) by role and type "
    "(voluntary, involuntary).",
    {SB, "role", "type"},
    "Host cost"};
const MetricDef kHostPageFaults{
    "gvisor_sandbox_host_page_faults_total",
    MetricType::Counter,
    "Page faults of the sandbox's host processes by role and type (minor, major).",
    {SB, "role", "type"},
    "Host cost"};
const MetricDef kCgroupMemoryUsage{
    "gvisor_sandbox_cgroup_memory_usage_bytes",
    MetricType::Gauge,
    "Memory charged to the sandbox's host cgroup (v1 memory.usage_in_bytes, v2 memory.current).",
    {SB},
    "Host cost"};
const MetricDef kCgroupMemoryWorkingSet{
    "gvisor_sandbox_cgroup_memory_working_set_bytes",
    MetricType::Gauge,
    "Working set of the sandbox's host cgroup: usage minus inactive_file (cAdvisor's definition).",
    {SB},
    "Host cost"};
const MetricDef kCgroupMemoryStat{
    "gvisor_sandbox_cgroup_memory_stat_bytes",
    MetricType::Gauge,
    "Selected memory.stat entries of the sandbox's host cgroup (type: rss, cache, shmem, "
    "mapped_file). gVisor keeps application memory in a memfd, which the host counts as shmem.",
    {SB, "type"},
    "Host cost"};
const MetricDef kCgroupCpuUsage{
    "gvisor_sandbox_cgroup_cpu_usage_seconds_total",
    MetricType::Counter,
    "CPU time charged to the sandbox's host cgroup (v1 cpuacct.usage, v2 cpu.stat usage_usec).",
    {SB},
    "Host cost"};
const MetricDef kCgroupCpu{"gvisor_sandbox_cgroup_cpu_seconds_total",
                           MetricType::Counter,
                           "CPU time charged to the sandbox's host cgroup by mode (user, system).",
                           {SB, "mode"},
                           "Host cost"};

// --- Overhead -------------------------------------------------------------------
const MetricDef kMemoryOverhead{
    "gvisor_sandbox_memory_overhead_bytes",
    MetricType::Gauge,
    "gVisor's memory overhead: host memory of the sandbox minus the in-sandbox Total. Host memory "
    "is "
    "the sum of PSS over the sentry, gofers and stubs, because PSS splits shared pages (the runsc "
    "binary, the memory file mapped by several processes) fairly and does not depend on which "
    "cgroup first touched a page. May be briefly negative when the app allocates between the "
    "reads.",
    {SB},
    "Overhead"};
const MetricDef kMemoryOverheadCgroup{
    "gvisor_sandbox_memory_overhead_cgroup_bytes",
    MetricType::Gauge,
    "The same overhead measured against the sandbox's host cgroup usage instead of PSS (what the "
    "kernel charges the pod; excludes shared page cache first charged elsewhere).",
    {SB},
    "Overhead"};

// --- Syscalls (runtime monitoring trace sessions) ------------------------------
const MetricDef kContainerSyscalls{
    "gvisor_container_syscalls_total",
    MetricType::Counter,
    "Syscalls a container's tasks made, by syscall name (raw syscall enter events of the "
    "sandbox's trace session; only for sandboxes with syscall statistics on). Per container the "
    "first --syscalls.max-per-container syscalls get a series, later ones count under "
    "syscall=\"other\". container is the CRI container name (\"\" for the pause container) or, "
    "for a container not (yet) in the state directory, its id.",
    {SB, "container", "syscall"},
    "Syscalls"};
const MetricDef kContainerSyscallErrors{
    "gvisor_container_syscall_errors_total",
    MetricType::Counter,
    "Syscalls that returned an error, by syscall and errno name (exit events; needs "
    "--syscalls.errors). Per container the first --syscalls.max-errors-per-container pairs get "
    "a series, later ones count under syscall=\"other\",errno=\"other\".",
    {SB, "container", "syscall", "errno"},
    "Syscalls"};
const MetricDef kContainerSyscallsUnimplemented{
    "gvisor_container_syscalls_unimplemented_total",
    MetricType::Counter,
    "Syscalls that failed with ENOSYS, i.e. that gVisor does not implement (or not for these "
    "arguments), by syscall name (needs --syscalls.errors).",
    {SB, "container", "syscall"},
    "Syscalls"};
// Sampling (--syscalls.sample): the same counts, under names of their own,
// because they cover only the traced windows.
const MetricDef kContainerSyscallsSampled{
    "gvisor_container_syscalls_sampled_total",
    MetricType::Counter,
    "Syscalls a container's tasks made while the sandbox was traced, for sandboxes sampled with "
    "--syscalls.sample (instead of gvisor_container_syscalls_total): a sample, not a total. "
    "Estimate the rate as rate(this) / rate(gvisor_sandbox_syscall_traced_seconds_total) "
    "(recording rule namespace_pod_container:gvisor_container_syscalls:estimated_rate5m).",
    {SB, "container", "syscall"},
    "Syscalls"};
const MetricDef kContainerSyscallErrorsSampled{
    "gvisor_container_syscall_errors_sampled_total",
    MetricType::Counter,
    "gvisor_container_syscall_errors_total for sandboxes sampled with --syscalls.sample: errors "
    "seen while the sandbox was traced.",
    {SB, "container", "syscall", "errno"},
    "Syscalls"};
const MetricDef kContainerSyscallsUnimplementedSampled{
    "gvisor_container_syscalls_unimplemented_sampled_total",
    MetricType::Counter,
    "gvisor_container_syscalls_unimplemented_total for sandboxes sampled with --syscalls.sample: "
    "ENOSYS seen while the sandbox was traced.",
    {SB, "container", "syscall"},
    "Syscalls"};
const MetricDef kSyscallTracedSeconds{
    "gvisor_sandbox_syscall_traced_seconds_total",
    MetricType::Counter,
    "Time the sandbox had a trace session, for sandboxes sampled with --syscalls.sample (about "
    "ON/PERIOD of the time; window ends fall on polls): what the *_sampled_total counters cover.",
    {SB},
    "Syscalls"};
const MetricDef kSyscallEventsDropped{
    "gvisor_sandbox_syscall_events_dropped_total",
    MetricType::Counter,
    "Trace events the sentry dropped instead of waiting for the exporter (its sink was full): "
    "the syscall counters of this sandbox undercount by this much. Never slows the workload.",
    {SB},
    "Syscalls"};
const MetricDef kSyscallSessionState{
    "gvisor_sandbox_syscall_session_state",
    MetricType::Gauge,
    "State of the sandbox's syscall statistics, one series per state (active: events flowing; "
    "foreign: another consumer owns the sandbox's trace session and is left alone; error: "
    "attaching failed or the session was lost, retried with backoff; paused: sampling, between "
    "two traced windows, only with --syscalls.sample), 1 for the current one. "
    "mode is attach (the exporter created the session) or listen (pod-init config).",
    {SB, "mode", "state"},
    "Syscalls"};
const MetricDef kTracePackets{
    "gvisor_exporter_trace_packets_total",
    MetricType::Counter,
    "Trace packets received from all sandboxes, by what became of them (syscall, ignored, "
    "unknown_type, malformed, truncated, invalid_sysno, handshake).",
    {"result"},
    "Syscalls"};

// --- Pods (CRI) -------------------------------------------------------------------
const MetricDef kCriUp{
    "gvisor_cri_up",
    MetricType::Gauge,
    "1 when the CRI runtime (--cri.endpoint) answered at the last poll, 0 when not (pod and "
    "policy series are then absent, sandbox series keep flowing). A missing socket (no runtime "
    "on the node, or a clean shutdown) is down without failing the collector; reasons in "
    "gvisor_exporter_errors_total{source=\"cri\"}. Absent with --cri.endpoint=\"\".",
    {},
    "Pods (CRI)"};
const MetricDef kCriInfo{"gvisor_cri_info",
                         MetricType::Gauge,
                         "Always 1 while the CRI runtime is up: its CRI version, name and "
                         "version (CRI Version).",
                         {"version", "runtime_name", "runtime_version"},
                         "Pods (CRI)"};
const MetricDef kPodInfo{
    "gvisor_pod_info",
    MetricType::Gauge,
    "Always 1: one series per pod sandbox the CRI runtime lists, gVisor or not. runtime_handler "
    "is the RuntimeClass handler (\"\" = the runtime's default), runtime_class its name (from "
    "the Kubernetes API's RuntimeClasses once --kubernetes.api has listed them, else from "
    "--runtime.classes), sandboxed=\"true\" when the handler runs gVisor (--runtime.handlers, or "
    "one of its pods is a sandbox under a runsc root), state ready or notready.",
    {"namespace", "pod", "uid", "pod_sandbox_id", "runtime_handler", "runtime_class", "sandboxed",
     "state"},
    "Pods (CRI)"};
const MetricDef kPodLabels{
    "gvisor_pod_labels",
    MetricType::Gauge,
    "Always 1: the pod labels named by --cri.pod-labels, one label_<key> per key (characters "
    "outside [A-Za-z0-9_] become _, like kube-state-metrics; \"\" when the pod lacks it). One "
    "series per pod (its ready sandbox preferred); absent without --cri.pod-labels.",
    {"namespace", "pod", "uid", "label_<key>..."},
    "Pods (CRI)"};
const MetricDef kPods{"gvisor_pods",
                      MetricType::Gauge,
                      "Pod sandboxes the CRI runtime lists, by handler and whether it is gVisor.",
                      {"runtime_handler", "sandboxed"},
                      "Pods (CRI)"};
const MetricDef kPolicyUnsandboxedPod{
    "gvisor_policy_unsandboxed_pod",
    MetricType::Gauge,
    "Always 1: a ready pod in a --policy.sandboxed-namespaces namespace that does not run under "
    "a gVisor handler (the pods a sandboxing admission policy should have stopped).",
    {"namespace", "pod", "uid", "runtime_handler"},
    "Pods (CRI)"};
const MetricDef kPolicyUnsandboxedPods{
    "gvisor_policy_unsandboxed_pods",
    MetricType::Gauge,
    "Ready pods not running under gVisor per --policy.sandboxed-namespaces namespace (0 when "
    "none; a series per listed namespace while the CRI runtime is up).",
    {"namespace"},
    "Pods (CRI)"};

// --- Kubernetes API -----------------------------------------------------------------
const MetricDef kKubernetesApiUp{
    "gvisor_kubernetes_api_up",
    MetricType::Gauge,
    "1 when the last request for RuntimeClasses to the Kubernetes API (--kubernetes.api) "
    "succeeded, 0 when it failed (the last good list is kept meanwhile; reasons in "
    "gvisor_exporter_errors_total{source=\"kubernetes\"}). Absent with --kubernetes.api=off.",
    {},
    "Kubernetes API"};
const MetricDef kRuntimeClassInfo{
    "gvisor_runtimeclass_info",
    MetricType::Gauge,
    "Always 1: one series per node.k8s.io/v1 RuntimeClass the Kubernetes API listed (the last "
    "good list), with its handler. While the list is available it names pods' runtime_class "
    "instead of --runtime.classes.",
    {"runtime_class", "handler"},
    "Kubernetes API"};
const MetricDef kRuntimeClassOverheadMemory{
    "gvisor_runtimeclass_overhead_memory_bytes",
    MetricType::Gauge,
    "The RuntimeClass's declared overhead.podFixed memory (what the scheduler adds to each "
    "pod's requests); absent when not declared. Compare with "
    "gvisor_sandbox_memory_overhead_bytes.",
    {"runtime_class"},
    "Kubernetes API"};
const MetricDef kRuntimeClassOverheadCpu{
    "gvisor_runtimeclass_overhead_cpu_cores",
    MetricType::Gauge,
    "The RuntimeClass's declared overhead.podFixed CPU in cores; absent when not declared.",
    {"runtime_class"},
    "Kubernetes API"};

// --- Node -------------------------------------------------------------------------
const MetricDef kSandboxes{"gvisor_sandboxes",
                           MetricType::Gauge,
                           "Running sandboxes found under each runsc root.",
                           {"root"},
                           "Node"};
const MetricDef kRunscInfo{"gvisor_runsc_info",
                           MetricType::Gauge,
                           "Always 1: the runsc binary found on the node and its version "
                           "(version=\"\" when runsc is not installed or did not answer).",
                           {"version"},
                           "Node"};
const MetricDef kKvmDevicePresent{"gvisor_node_kvm_device_present",
                                  MetricType::Gauge,
                                  "1 when /dev/kvm exists as a character device.",
                                  {},
                                  "Node"};
const MetricDef kKvmUsable{"gvisor_node_kvm_usable",
                           MetricType::Gauge,
                           "1 when /dev/kvm opens read-write and answers KVM_GET_API_VERSION (12). "
                           "Necessary, not sufficient, for runsc's kvm platform.",
                           {},
                           "Node"};

// --- The exporter itself -------------------------------------------------------
const MetricDef kBuildInfo{"gvisor_exporter_build_info",
                           MetricType::Gauge,
                           "Always 1: version and compiler of this exporter.",
                           {"version", "compiler"},
                           "Exporter"};
const MetricDef kCollectorSuccess{"gvisor_exporter_collector_success",
                                  MetricType::Gauge,
                                  "1 when the source worked for every sandbox at the last poll, 0 "
                                  "when it failed for at least one "
                                  "(details in gvisor_exporter_errors_total).",
                                  {"collector"},
                                  "Exporter"};
const MetricDef kCollectorDuration{
    "gvisor_exporter_collector_duration_seconds",
    MetricType::Gauge,
    "Time the source took during the last poll (summed over sandboxes).",
    {"collector"},
    "Exporter"};
const MetricDef kSnapshotAge{"gvisor_exporter_snapshot_age_seconds",
                             MetricType::Gauge,
                             "Seconds since the served snapshot was taken.",
                             {},
                             "Exporter"};
const MetricDef kPollDuration{"gvisor_exporter_poll_duration_seconds",
                              MetricType::Gauge,
                              "Wall time of the last full poll of the node.",
                              {},
                              "Exporter"};
const MetricDef kSandboxPollDuration{"gvisor_sandbox_poll_duration_seconds",
                                     MetricType::Gauge,
                                     "Wall time spent reading this sandbox at the last poll.",
                                     {SB},
                                     "Exporter"};
const MetricDef kPolls{"gvisor_exporter_polls_total",
                       MetricType::Counter,
                       "Polls of the node completed since start.",
                       {},
                       "Exporter"};
const MetricDef kErrors{
    "gvisor_exporter_errors_total",
    MetricType::Counter,
    "Errors met while reading sources, by source (runsc_state, control_socket, cli, procfs, "
    "cgroup, platform, syscalls, cri, kubernetes) and reason (not_found, permission, timeout, "
    "too_large, "
    "parse, invalid, "
    "unavailable, remote_error, io, internal).",
    {"source", "reason"},
    "Exporter"};
const MetricDef kSuppressedLogs{"gvisor_exporter_log_messages_suppressed_total",
                                MetricType::Counter,
                                "Error log lines suppressed by the per-error rate limit.",
                                {},
                                "Exporter"};
#undef SB

}  // namespace metric

const std::vector<const MetricDef*>& AllMetrics() {
  using namespace metric;  // NOLINT(google-build-using-namespace)
  static const std::vector<const MetricDef*> all = {&kSandboxInfo,
                                                    &kContainerInfo,
                                                    &kSandboxPlatformInfo,
                                                    &kSandboxStatsPathInfo,
                                                    &kSandboxMemoryTotal,
                                                    &kSandboxMemory,
                                                    &kSandboxPids,
                                                    &kSandboxNetworkReceiveBytes,
                                                    &kSandboxNetworkReceivePackets,
                                                    &kSandboxNetworkReceiveErrors,
                                                    &kSandboxNetworkReceiveDropped,
                                                    &kSandboxNetworkTransmitBytes,
                                                    &kSandboxNetworkTransmitPackets,
                                                    &kSandboxNetworkTransmitErrors,
                                                    &kSandboxNetworkTransmitDropped,
                                                    &kContainerCpu,
                                                    &kSandboxCpu,
                                                    &kHostProcesses,
                                                    &kHostPss,
                                                    &kHostRss,
                                                    &kHostCpu,
                                                    &kHostThreads,
                                                    &kHostContextSwitches,
                                                    &kHostPageFaults,
                                                    &kCgroupMemoryUsage,
                                                    &kCgroupMemoryWorkingSet,
                                                    &kCgroupMemoryStat,
                                                    &kCgroupCpuUsage,
                                                    &kCgroupCpu,
                                                    &kMemoryOverhead,
                                                    &kMemoryOverheadCgroup,
                                                    &kContainerSyscalls,
                                                    &kContainerSyscallErrors,
                                                    &kContainerSyscallsUnimplemented,
                                                    &kContainerSyscallsSampled,
                                                    &kContainerSyscallErrorsSampled,
                                                    &kContainerSyscallsUnimplementedSampled,
                                                    &kSyscallTracedSeconds,
                                                    &kSyscallEventsDropped,
                                                    &kSyscallSessionState,
                                                    &kTracePackets,
                                                    &kCriUp,
                                                    &kCriInfo,
                                                    &kPodInfo,
                                                    &kPodLabels,
                                                    &kPods,
                                                    &kPolicyUnsandboxedPod,
                                                    &kPolicyUnsandboxedPods,
                                                    &kKubernetesApiUp,
                                                    &kRuntimeClassInfo,
                                                    &kRuntimeClassOverheadMemory,
                                                    &kRuntimeClassOverheadCpu,
                                                    &kSandboxes,
                                                    &kRunscInfo,
                                                    &kKvmDevicePresent,
                                                    &kKvmUsable,
                                                    &kBuildInfo,
                                                    &kCollectorSuccess,
                                                    &kCollectorDuration,
                                                    &kSnapshotAge,
                                                    &kPollDuration,
                                                    &kSandboxPollDuration,
                                                    &kPolls,
                                                    &kErrors,
                                                    &kSuppressedLogs,
                                                    &kProcessCpu,
                                                    &kProcessResidentMemory,
                                                    &kProcessVirtualMemory,
                                                    &kProcessVirtualMemoryMax,
                                                    &kProcessStartTime,
                                                    &kProcessOpenFds,
                                                    &kProcessMaxFds};
  return all;
}

namespace {
const char* TypeName(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Histogram:
      return "histogram";
    case prometheus::MetricType::Summary:
      return "summary";
    default:
      return "untyped";
  }
}
}  // namespace

std::string GenerateMetricsMarkdown() {
  std::ostringstream out;
  out << "# Metric reference\n\n"
      << "Generated from the exporter's own metric table (`gvisor-exporter --print-metrics-doc`); "
         "a "
         "unit test fails when this file and the code disagree.\n\n"
      << "Per-sandbox series carry `namespace`, `pod` (from the CRI annotations in the state file; "
         "empty for sandboxes not started by a CRI runtime) and `sandbox_id`. Label cardinality is "
         "bounded: per sandbox, one series per container, per role (4), per memory category (7), "
         "per mode/type (2) and per network interface (at most 32); syscall series per container "
         "by syscall (at most "
         "--syscalls.max-per-container + 1) and errno pair (at most "
         "--syscalls.max-errors-per-container + 1); node series by runsc root; error series by "
         "source (9) x reason (10); pod series by pod sandbox. Series of a sandbox disappear "
         "with the first poll after it is "
         "gone. The process_* series describe the exporter's own process (names and help as "
         "Prometheus' client_golang), read from its /proc/self at each scrape.\n";
  const char* group = "";
  for (const MetricDef* d : AllMetrics()) {
    if (std::string(group) != d->group) {
      group = d->group;
      out << "\n## " << group << "\n\n| name | type | labels | meaning |\n|---|---|---|---|\n";
    }
    out << "| `" << d->name << "` | " << TypeName(d->type) << " | ";
    for (size_t i = 0; i < d->labels.size(); ++i)
      out << (i ? ", " : "") << "`" << d->labels[i] << "`";
    out << " | " << d->help << " |\n";
  }
  return out.str();
}

}  // namespace gvisor_exporter
