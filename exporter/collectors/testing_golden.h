// Snapshots whose exposition is pinned byte for byte by golden_test.cc
// (testdata/*.prom): the hand-built test snapshot and a bigger synthetic one
// in which every family of the snapshot has samples.
#pragma once

#include <string>

#include "bench/synthetic_snapshot.h"
#include "exporter/model/process_stats.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

// 20 synthetic sandboxes with syscall statistics and CRI pods, varied so
// that every family appears: network interfaces, an "other" host process,
// sampled and paused or failed trace sessions, pod labels and policy
// violations, the Kubernetes API's RuntimeClasses, label values that need
// escaping, UTF-8 repair and bounding.
inline NodeSnapshot MakeGoldenSnapshot() {
  NodeSnapshot n = synthetic::MakeNode(20, true, 42);
  n.roots.push_back("/run/containerd/runsc/moby");
  n.node.kvm_device_present = true;
  n.node.kvm_usable = true;
  for (size_t i = 0; i < n.sandboxes.size(); ++i) {
    SandboxSnapshot& s = n.sandboxes[i];
    if (i % 3 == 0) {
      s.usage.network =
          std::vector<NetworkInterface>{{"lo", 100 + i, 2, 0, 0, 100 + i, 2, 0, 0},
                                        {"eth0", 123456789 + i, 98765, 1, 2, 55555 + i, 444, 3, 4}};
    }
    if (i % 4 == 1) {
      s.processes.push_back({s.info.pid + 9, ProcessRole::kOther, "", 3 << 20, 2 << 20, 0, 0, 0,
                             0.01, 0.02, 1, 3, 1, 20, 0});
    }
    if (i % 5 == 2) s.usage.path = StatsPath::kCli;
    if (i % 7 == 3) {
      s.usage.memory.reset();
      s.usage.pids.reset();
      s.usage.container_cpu_ns.clear();
      s.usage.path = StatsPath::kNone;
    }
    if (i % 6 == 4) s.cgroup.reset();
    if (s.syscalls) {
      if (i % 4 == 2) {
        s.syscalls->sampled = true;
        s.syscalls->traced_seconds = 12.5 + static_cast<double>(i);
      }
      if (i % 8 == 6) {
        s.syscalls->sampled = true;
        s.syscalls->state = TraceSessionState::kPaused;
      }
      if (i % 9 == 5) {
        s.syscalls->state = TraceSessionState::kError;
        s.syscalls->containers.clear();
      }
      if (i % 10 == 7) {
        s.syscalls->mode = "listen";
        s.syscalls->state = TraceSessionState::kForeign;
      }
    }
    if (i == 11) s.syscalls.reset();
  }
  // Label values from untrusted sources: escaping, invalid UTF-8, length.
  SandboxSnapshot& odd = n.sandboxes[1];
  odd.info.pod_name = "we\"ird\\pod\nname";
  odd.info.containers[1].image = std::string(300, 'i') + "\xe2\x82\xac";
  odd.info.containers[1].name = "bad\xff\xfeutf8";
  odd.runtime_class = "";
  n.trace_packets->unknown_type = 3;
  n.trace_packets->malformed = 2;
  n.trace_packets->truncated = 1;
  n.trace_packets->invalid_sysno = 5;
  n.trace_packets->handshake = 20;
  n.trace_reader_scheduling = "nice";
  CriState& cri = *n.cri;
  cri.label_names = {"label_app", "label_team"};
  cri.policy_namespaces = {"kube-system", "payments", "shop"};
  for (size_t i = 0; i < cri.pods.size(); ++i) {
    PodInfo& p = cri.pods[i];
    p.labels = {p.name.substr(0, 6), i % 2 ? "core" : ""};
    if (p.pod_namespace == "kube-system" && i % 2 == 0) p.policy_violation = true;
  }
  // A pod recreated by kubelet: a NOTREADY sandbox beside the ready one.
  PodInfo again = cri.pods[0];
  again.id = "0000notready";
  again.ready = false;
  cri.pods.push_back(again);
  KubeState kube;
  kube.up = true;
  kube.runtime_classes =
      std::vector<RuntimeClassInfo>{{"gvisor", "runsc", 50 << 20, 0.25},
                                    {"gvisor-kvm", "runsc-kvm", std::nullopt, 0.1},
                                    {"runc", "runc", std::nullopt, std::nullopt}};
  n.kube = kube;
  n.sources["kubernetes"] = {false, 0.25};
  return n;
}

// Process statistics with every field set.
inline ProcessStats MakeGoldenProcessStats() {
  ProcessStats p;
  p.cpu_seconds = 12.34;
  p.resident_memory_bytes = 14680064;
  p.virtual_memory_bytes = 1234567890;
  p.start_time_seconds = 1795000000.5;
  p.open_fds = 23;
  p.max_fds = 1048576;
  p.virtual_memory_max_bytes = 1.8446744073709552e19;
  return p;
}

}  // namespace gvisor_exporter
