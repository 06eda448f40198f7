#include "exporter/collectors/family_builder.h"
#include "exporter/collectors/render.h"
#include "exporter/collectors/render_internal.h"

namespace gvisor_exporter {

namespace {

const char* Bool(bool b) { return b ? "true" : "false"; }

}  // namespace

std::vector<std::string> SandboxLabels(const SandboxInfo& info) {
  return {info.pod_namespace, info.pod_name, info.id};
}

void RenderSandboxes(const NodeSnapshot& snap, Families* out) {
  RenderSandboxes(SandboxRange::All(snap), false, out);
}

void RenderSandboxes(SandboxRange sandboxes, bool keep_empty, Families* out) {
  using namespace metric;  // NOLINT(google-build-using-namespace)
  RangeFamilyBuilder info(kSandboxInfo), ctr_info(kContainerInfo), platform(kSandboxPlatformInfo),
      path(kSandboxStatsPathInfo), mem_total(kSandboxMemoryTotal), mem(kSandboxMemory),
      pids(kSandboxPids), ctr_cpu(kContainerCpu), sb_cpu(kSandboxCpu),
      poll_dur(kSandboxPollDuration), rx_bytes(kSandboxNetworkReceiveBytes),
      rx_packets(kSandboxNetworkReceivePackets), rx_errors(kSandboxNetworkReceiveErrors),
      rx_dropped(kSandboxNetworkReceiveDropped), tx_bytes(kSandboxNetworkTransmitBytes),
      tx_packets(kSandboxNetworkTransmitPackets), tx_errors(kSandboxNetworkTransmitErrors),
      tx_dropped(kSandboxNetworkTransmitDropped);
  for (const SandboxSnapshot& s : sandboxes) {
    const auto l = SandboxLabels(s.info);
    info.Add(With(l, {s.info.pod_uid, s.info.root, std::to_string(s.info.pid), s.runtime_handler,
                      s.runtime_class}),
             1);
    for (const ContainerInfo& c : s.info.containers) {
      ctr_info.Add(With(l, {c.name, c.id, c.image, c.status}), 1);
    }
    const SandboxPlatform& p = s.platform;
    platform.Add(With(l, {p.platform, p.network, p.file_access, p.overlay, Bool(p.debug),
                          Bool(p.strace), Bool(p.pod_init_config), p.source}),
                 1);
    path.Add(With(l, {StatsPathName(s.usage.path)}), 1);
    poll_dur.Add(l, s.poll_duration_seconds);
    if (s.usage.memory) {
      const SandboxMemory& m = *s.usage.memory;
      mem_total.Add(l, static_cast<double>(m.total));
      const std::pair<const char*, uint64_t> cats[] = {
          {"anonymous", m.anonymous}, {"page_cache", m.page_cache}, {"mapped", m.mapped},
          {"tmpfs", m.tmpfs},         {"ramdiskfs", m.ramdiskfs},   {"system", m.system},
          {"unknown", m.unknown}};
      for (const auto& [cat, v] : cats) mem.Add(With(l, {cat}), static_cast<double>(v));
    }
    if (s.usage.pids) pids.Add(l, static_cast<double>(*s.usage.pids));
    if (s.usage.network) {
      // Names are unique: the parser keeps the first of a repeated name.
      for (const NetworkInterface& n : *s.usage.network) {
        const auto il = With(l, {n.name});
        const std::pair<RangeFamilyBuilder*, uint64_t> values[] = {
            {&rx_bytes, n.rx_bytes},     {&rx_packets, n.rx_packets}, {&rx_errors, n.rx_errors},
            {&rx_dropped, n.rx_dropped}, {&tx_bytes, n.tx_bytes},     {&tx_packets, n.tx_packets},
            {&tx_errors, n.tx_errors},   {&tx_dropped, n.tx_dropped}};
        for (const auto& [f, v] : values) f->Add(il, static_cast<double>(v));
      }
    }
    if (!s.usage.container_cpu_ns.empty()) {
      // The sandbox total counts every entry the sentry reports, including
      // containers no longer in the state directory (their CPU was spent here).
      uint64_t sum = 0;
      for (const auto& [id, ns] : s.usage.container_cpu_ns) sum += ns;
      sb_cpu.Add(l, static_cast<double>(sum) / 1e9);
      for (const ContainerInfo& c : s.info.containers) {
        auto it = s.usage.container_cpu_ns.find(c.id);
        if (it == s.usage.container_cpu_ns.end()) continue;
        ctr_cpu.Add(With(l, {c.name}), static_cast<double>(it->second) / 1e9);
      }
    }
  }
  for (RangeFamilyBuilder* f :
       {&info, &ctr_info, &platform, &path, &mem_total, &mem, &pids, &rx_bytes, &rx_packets,
        &rx_errors, &rx_dropped, &tx_bytes, &tx_packets, &tx_errors, &tx_dropped, &ctr_cpu, &sb_cpu,
        &poll_dur}) {
    f->MoveTo(out, keep_empty);
  }
}

}  // namespace gvisor_exporter
