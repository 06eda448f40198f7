// Sandboxes and containers (from the runsc state directory) and their
// in-sandbox usage (sentry accounting): one series set per sandbox.
#include <utility>

#include "exporter/collectors/metric_catalog.h"

namespace gvisor_exporter {

namespace {

const char* Bool(bool b) { return b ? "true" : "false"; }

// The interface counters: one row per field of NetworkInterface.
template <uint64_t NetworkInterface::*field>
void Interfaces(const SandboxSnapshot& s, Samples& w) {
  if (!s.usage.network) return;
  // Names are unique: the parser keeps the first of a repeated name.
  for (const NetworkInterface& n : *s.usage.network) {
    w.Add({n.name}, static_cast<double>(n.*field));
  }
}

const MetricRow kRows[] = {
    {.name = "gvisor_sandbox_info",
     .type = MetricType::Gauge,
     .help = "Always 1: one series per running gVisor sandbox (pod), with its pod uid, the runsc "
             "root it was found under, its sentry host pid, and the pod's RuntimeClass handler "
             "and name from CRI (both \"\" when CRI is off, down or does not list the pod).",
     .labels = {SANDBOX_LABELS, "pod_uid", "root", "sentry_pid", "runtime_handler",
                "runtime_class"},
     .group = "Sandboxes",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           w.Add({s.info.pod_uid, s.info.root, std::to_string(s.info.pid), s.runtime_handler,
                  s.runtime_class},
                 1);
         }},
    {.name = "gvisor_container_info",
     .type = MetricType::Gauge,
     .help = "Always 1: one series per container of a sandbox (the pause container has "
             "container=\"\"), with its runsc container id, image and runsc status.",
     .labels = {SANDBOX_LABELS, "container", "container_id", "image", "status"},
     .group = "Sandboxes",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           for (const ContainerInfo& c : s.info.containers) {
             w.Add({c.name, c.id, c.image, c.status}, 1);
           }
         }},
    {.name = "gvisor_sandbox_platform_info",
     .type = MetricType::Gauge,
     .help = "Always 1: platform and configuration the sandbox runs with (from the sentry command "
             "line with the runsc release's defaults, or metricMetadata of newer state files; "
             "`source` says which).",
     .labels = {SANDBOX_LABELS, "platform", "network", "file_access", "overlay", "debug", "strace",
                "pod_init_config", "source"},
     .group = "Sandboxes",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           const SandboxPlatform& p = s.platform;
           w.Add({p.platform, p.network, p.file_access, p.overlay, Bool(p.debug), Bool(p.strace),
                  Bool(p.pod_init_config), p.source},
                 1);
         }},
    {.name = "gvisor_sandbox_stats_path_info",
     .type = MetricType::Gauge,
     .help = "Always 1: which path served this sandbox's in-sandbox usage at the last poll: "
             "control_socket (urpc, preferred), cli (runsc events/usage fallback) or none (both "
             "failed).",
     .labels = {SANDBOX_LABELS, "path"},
     .group = "Sandboxes",
     .sandbox = [](const SandboxSnapshot& s,
                   Samples& w) { w.Add({StatsPathName(s.usage.path)}, 1); }},
    {.name = "gvisor_sandbox_memory_total_bytes",
     .type = MetricType::Gauge,
     .help = "Memory used inside the sandbox as accounted by the sentry (Usage.Collect / `runsc "
             "usage` Total).",
     .labels = {SANDBOX_LABELS},
     .group = "In-sandbox usage",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (s.usage.memory) w.Add({}, static_cast<double>(s.usage.memory->total));
         }},
    {.name = "gvisor_sandbox_memory_bytes",
     .type = MetricType::Gauge,
     .help = "Memory used inside the sandbox by category (anonymous, page_cache, mapped, tmpfs, "
             "ramdiskfs, system, unknown); the categories add up to "
             "gvisor_sandbox_memory_total_bytes.",
     .labels = {SANDBOX_LABELS, "category"},
     .group = "In-sandbox usage",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (!s.usage.memory) return;
           const SandboxMemory& m = *s.usage.memory;
           const std::pair<const char*, uint64_t> cats[] = {
               {"anonymous", m.anonymous}, {"page_cache", m.page_cache}, {"mapped", m.mapped},
               {"tmpfs", m.tmpfs},         {"ramdiskfs", m.ramdiskfs},   {"system", m.system},
               {"unknown", m.unknown}};
           for (const auto& [cat, v] : cats) w.Add({cat}, static_cast<double>(v));
         }},
    {.name = "gvisor_sandbox_pids",
     .type = MetricType::Gauge,
     .help = "Tasks (threads) running inside the sandbox, as counted by the sentry.",
     .labels = {SANDBOX_LABELS},
     .group = "In-sandbox usage",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (s.usage.pids) w.Add({}, static_cast<double>(*s.usage.pids));
         }},
    {.name = "gvisor_sandbox_network_receive_bytes_total",
     .type = MetricType::Counter,
     .help =
         "Bytes received on an interface of the sandbox's network stack, as the sentry reports it "
         "(containerManager.Event; runsc >= 2023, absent on older releases). A pod network "
         "(--network=sandbox) shows the pod's interfaces; without one (--network=none or host) "
         "runsc "
         "20240729 lists only lo, with counters at 0. At most 32 interfaces per sandbox.",
     .labels = {SANDBOX_LABELS, "interface"},
     .group = "In-sandbox usage",
     .sandbox = Interfaces<&NetworkInterface::rx_bytes>},
    {.name = "gvisor_sandbox_network_receive_packets_total",
     .type = MetricType::Counter,
     .help = "Packets received on an interface of the sandbox's network stack.",
     .labels = {SANDBOX_LABELS, "interface"},
     .group = "In-sandbox usage",
     .sandbox = Interfaces<&NetworkInterface::rx_packets>},
    {.name = "gvisor_sandbox_network_receive_errors_total",
     .type = MetricType::Counter,
     .help =
         "Receive errors on an interface of the sandbox's network stack (always 0 on the sentry's "
         "own stack).",
     .labels = {SANDBOX_LABELS, "interface"},
     .group = "In-sandbox usage",
     .sandbox = Interfaces<&NetworkInterface::rx_errors>},
    {.name = "gvisor_sandbox_network_receive_packets_dropped_total",
     .type = MetricType::Counter,
     .help =
         "Received packets dropped on an interface of the sandbox's network stack (always 0 on the "
         "sentry's own stack).",
     .labels = {SANDBOX_LABELS, "interface"},
     .group = "In-sandbox usage",
     .sandbox = Interfaces<&NetworkInterface::rx_dropped>},
    {.name = "gvisor_sandbox_network_transmit_bytes_total",
     .type = MetricType::Counter,
     .help = "Bytes transmitted on an interface of the sandbox's network stack.",
     .labels = {SANDBOX_LABELS, "interface"},
     .group = "In-sandbox usage",
     .sandbox = Interfaces<&NetworkInterface::tx_bytes>},
    {.name = "gvisor_sandbox_network_transmit_packets_total",
     .type = MetricType::Counter,
     .help = "Packets transmitted on an interface of the sandbox's network stack.",
     .labels = {SANDBOX_LABELS, "interface"},
     .group = "In-sandbox usage",
     .sandbox = Interfaces<&NetworkInterface::tx_packets>},
    {.name = "gvisor_sandbox_network_transmit_errors_total",
     .type = MetricType::Counter,
     .help =
         "Transmit errors on an interface of the sandbox's network stack (always 0 on the sentry's "
         "own stack).",
     .labels = {SANDBOX_LABELS, "interface"},
     .group = "In-sandbox usage",
     .sandbox = Interfaces<&NetworkInterface::tx_errors>},
    {.name = "gvisor_sandbox_network_transmit_packets_dropped_total",
     .type = MetricType::Counter,
     .help =
         "Transmitted packets dropped on an interface of the sandbox's network stack (always 0 on "
         "the sentry's own stack).",
     .labels = {SANDBOX_LABELS, "interface"},
     .group = "In-sandbox usage",
     .sandbox = Interfaces<&NetworkInterface::tx_dropped>},
    {.name = "gvisor_container_cpu_seconds_total",
     .type = MetricType::Counter,
     .help = "CPU time of a container's tasks as accounted by the sentry (10 ms granularity). "
             "Absent when the CLI path served the sandbox (runsc's CLI only has a cgroup-derived "
             "split).",
     .labels = {SANDBOX_LABELS, "container"},
     .group = "In-sandbox usage",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           for (const ContainerInfo& c : s.info.containers) {
             auto it = s.usage.container_cpu_ns.find(c.id);
             if (it == s.usage.container_cpu_ns.end()) continue;
             w.Add({c.name}, static_cast<double>(it->second) / 1e9);
           }
         }},
    {.name = "gvisor_sandbox_cpu_seconds_total",
     .type = MetricType::Counter,
     .help =
         "CPU time of all tasks inside the sandbox (sum over its containers). Compare its rate "
         "with "
         "gvisor_sandbox_cgroup_cpu_usage_seconds_total: the difference is gVisor's CPU overhead.",
     .labels = {SANDBOX_LABELS},
     .group = "In-sandbox usage",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (s.usage.container_cpu_ns.empty()) return;
           // The sandbox total counts every entry the sentry reports, including
           // containers no longer in the state directory (their CPU was spent here).
           uint64_t sum = 0;
           for (const auto& [id, ns] : s.usage.container_cpu_ns) sum += ns;
           w.Add({}, static_cast<double>(sum) / 1e9);
         }},
    {.name = "gvisor_sandbox_poll_duration_seconds",
     .type = MetricType::Gauge,
     .help = "Wall time spent reading this sandbox at the last poll.",
     .labels = {SANDBOX_LABELS},
     .group = "Exporter",
     .sandbox = [](const SandboxSnapshot& s, Samples& w) { w.Add({}, s.poll_duration_seconds); },
     .doc_after = "gvisor_exporter_poll_duration_seconds"},
};

}  // namespace

std::span<const MetricRow> SandboxMetrics() { return kRows; }

}  // namespace gvisor_exporter
