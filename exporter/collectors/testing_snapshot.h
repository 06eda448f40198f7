// A hand-built NodeSnapshot for collector and HTTP tests (values chosen so
// every derived figure is easy to check by hand).
#pragma once

#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

inline NodeSnapshot MakeTestSnapshot() {
  NodeSnapshot n;
  n.timestamp_seconds = 1000;
  n.poll_duration_seconds = 0.002;
  n.poll_count = 7;
  n.node.runsc_version = "0.0~20221219.0";
  n.node.kvm_device_present = true;
  n.roots = {"/run/containerd/runsc/k8s.io", "/run/containerd/runsc/moby"};
  n.sources["control_socket"] = {true, 0.001};
  n.sources["procfs"] = {false, 0.0005};

  SandboxSnapshot s;
  s.info.root = "/run/containerd/runsc/k8s.io";
  s.info.id = "sb1";
  s.info.pid = 4242;
  s.info.pod_name = "web-0";
  s.info.pod_namespace = "shop";
  s.info.pod_uid = "u-1";
  s.info.containers = {{"sb1", "", true, "running", 11, "pause", ""},
                       {"app1", "app", false, "running", 12, "busybox", ""}};
  s.usage.path = StatsPath::kControlSocket;
  s.usage.memory = SandboxMemory{0, 12288, 430080, 0, 1585152, 67108864, 0, 69136384, true};
  s.usage.pids = 3;
  s.usage.container_cpu_ns = {{"sb1", 0}, {"app1", 610000000}};
  HostProcess sentry{4242,     ProcessRole::kSentry,
                     "",       30000000,
                     80000000, 5000000,
                     11000000, 64000000,
                     1.5,      2.5,
                     14,       100,
                     20,       4000,
                     3};
  HostProcess gofer{
      11, ProcessRole::kGofer, "sb1", 20000000, 6000000, 0, 0, 0, 0.1, 0.2, 6, 10, 5, 300, 0};
  HostProcess stub{4300, ProcessRole::kStub, "", 1000000, 1000000, 0, 0, 0, 0, 0.5, 1, 50, 1, 10,
                   0};
  s.processes = {sentry, gofer, stub};
  HostCgroup cg;
  cg.memory_usage_bytes = 79495168;
  cg.memory_working_set_bytes = 79491072;
  cg.memory_shmem_bytes = 67571712;
  cg.cpu_usage_seconds = 4.75;
  cg.cpu_user_seconds = 1.0;
  cg.cpu_system_seconds = 3.5;
  s.cgroup = cg;
  s.platform = {"ptrace", "none", "exclusive", "none", false, false, false, "cmdline"};
  s.poll_duration_seconds = 0.0002;
  n.sandboxes.push_back(s);
  return n;
}

}  // namespace gvisor_exporter
