// A synthetic NodeSnapshot of N sandboxes shaped like a real Kubernetes node,
// shared by the benchmarks (render_bench, scrape_latency_bench).
//
// Each sandbox is one pod with two containers (pause + app), 64-hex runsc ids,
// CRI-style pod names, namespaces and uids, RuntimeClass "gvisor" (handler
// runsc), host processes (sentry, one gofer per container, two stubs) and a
// v1 cgroup, as the default configuration polls them. The CRI state lists
// these pods plus a few runc system pods, as containerd would.
//
// With syscall statistics on, every container (the pause container too, so a
// slight overestimate) has an active attach-mode session with 40 distinct
// syscalls, 10 (syscall, errno) pairs of which 3 are ENOSYS (those 3 also
// counted as unimplemented), and the sandbox a dropped-event count.
//
// Deterministic: the same (n, syscalls) gives the same snapshot.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "exporter/model/sandbox.h"

namespace gvisor_exporter {
namespace synthetic {

// splitmix64: deterministic pseudo-random values for ids and counters.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// `len` lowercase hex digits derived from `seed`.
inline std::string Hex(uint64_t seed, size_t len) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(len);
  uint64_t v = 0;
  for (size_t i = 0; i < len; ++i) {
    if (i % 16 == 0) v = Mix(seed * 31 + i / 16);
    s.push_back(kDigits[v & 0xf]);
    v >>= 4;
  }
  return s;
}

// A runsc/containerd id: 64 hex digits.
inline std::string Id(uint64_t seed) { return Hex(seed, 64); }

// A Kubernetes pod uid: 8-4-4-4-12 hex.
inline std::string Uid(uint64_t seed) {
  const std::string h = Hex(seed, 32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

// A Deployment's pod name: <deployment>-<10 chars>-<5 chars>.
inline std::string PodName(const std::string& deployment, uint64_t seed) {
  static constexpr char kAlnum[] = "bcdfghjklmnpqrstvwxz2456789";  // as Kubernetes' rand.String
  uint64_t v = Mix(seed);
  std::string s = deployment + "-";
  for (int i = 0; i < 15; ++i) {
    if (i == 10) s += "-";
    s.push_back(kAlnum[v % (sizeof(kAlnum) - 1)]);
    v /= sizeof(kAlnum) - 1;
    if (i == 7) v = Mix(v + seed);
  }
  return s;
}

inline const std::vector<std::string>& Namespaces() {
  static const std::vector<std::string> kNs = {
      "checkout-prod",   "payments-prod", "search-prod",   "recommendations-prod", "identity-prod",
      "ml-serving-prod", "tenant-a1b2c3", "tenant-d4e5f6", "customer-sandboxes",   "ci-runners"};
  return kNs;
}

inline const std::vector<std::string>& Deployments() {
  static const std::vector<std::string> kDeployments = {
      "checkout-api",     "payment-gateway", "search-indexer", "recommendation-worker",
      "auth-service",     "model-server",    "untrusted-job",  "code-runner",
      "notebook-session", "build-agent",     "image-resizer",  "webhook-relay"};
  return kDeployments;
}

// What a busy app container looks like: 37 common syscalls + 3 the sentry
// does not implement (the last three), 7 common errno pairs + those 3 ENOSYS.
inline const std::vector<std::string>& SyscallNames() {
  static const std::vector<std::string> kNames = {
      "read",       "write",        "openat",         "close",           "fstat",
      "newfstatat", "lseek",        "mmap",           "mprotect",        "munmap",
      "brk",        "rt_sigaction", "rt_sigprocmask", "ioctl",           "pread64",
      "writev",     "access",       "pipe2",          "sched_yield",     "madvise",
      "getpid",     "socket",       "connect",        "accept4",         "sendto",
      "recvfrom",   "sendmsg",      "recvmsg",        "setsockopt",      "clone",
      "futex",      "epoll_wait",   "epoll_ctl",      "getrandom",       "clock_nanosleep",
      "getdents64", "fcntl",        "io_uring_setup", "perf_event_open", "bpf"};
  return kNames;
}

inline const std::vector<std::pair<std::string, std::string>>& ErrorPairs() {
  static const std::vector<std::pair<std::string, std::string>> kPairs = {
      {"openat", "ENOENT"},       {"newfstatat", "ENOENT"},     {"access", "ENOENT"},
      {"connect", "EINPROGRESS"}, {"recvfrom", "EAGAIN"},       {"futex", "ETIMEDOUT"},
      {"ioctl", "ENOTTY"},        {"io_uring_setup", "ENOSYS"}, {"perf_event_open", "ENOSYS"},
      {"bpf", "ENOSYS"}};
  return kPairs;
}

inline ContainerSyscalls MakeContainerSyscalls(const std::string& container_id, uint64_t seed) {
  ContainerSyscalls cs;
  cs.container_id = container_id;
  uint64_t i = 0;
  for (const std::string& name : SyscallNames()) {
    // Counts spread over 1 .. ~10^9 so the exposition has realistic widths.
    const uint64_t v = Mix(seed + ++i);
    cs.calls.emplace_back(name, 1 + v % (uint64_t{1} << (v % 30 + 1)));
  }
  for (const auto& [sys, err] : ErrorPairs()) {
    const uint64_t count = 1 + Mix(seed + ++i) % 100000;
    cs.errors.push_back({sys, err, count});
    if (err == "ENOSYS") cs.unimplemented.emplace_back(sys, count);
  }
  return cs;
}

// Sandbox i of a node (stable across calls).
inline SandboxSnapshot MakeSandbox(int i, bool syscalls) {
  const uint64_t seed = static_cast<uint64_t>(i) * 1000;
  SandboxSnapshot s;
  const std::string sandbox_id = Id(seed + 1), app_id = Id(seed + 2);
  const std::string& deployment = Deployments()[i % Deployments().size()];
  s.info.root = "/run/containerd/runsc/k8s.io";
  s.info.id = sandbox_id;
  s.info.pid = 100000 + i * 16;
  s.info.pid_start_time = 123456789 + i;
  s.info.pod_name = PodName(deployment, seed + 3);
  s.info.pod_namespace = Namespaces()[i % Namespaces().size()];
  s.info.pod_uid = Uid(seed + 4);
  s.info.syscalls_annotation = syscalls ? "true" : "";
  s.info.cgroup = {CgroupRef::Kind::kV1,
                   "/kubepods/burstable/pod" + s.info.pod_uid + "/" + sandbox_id, ""};
  s.info.containers = {{sandbox_id, "", true, "running", s.info.pid + 1,
                        "registry.k8s.io/pause:3.9", "2026-11-28T10:15:30.123456789Z"},
                       {app_id, deployment, false, "running", s.info.pid + 2,
                        "registry.example.com/platform/" + deployment + ":v1.42.3",
                        "2026-11-28T10:15:31.987654321Z"}};
  s.usage.path = StatsPath::kControlSocket;
  s.usage.memory =
      SandboxMemory{0, 2 << 20, 180 << 20, 24 << 20, 40 << 20, 16 << 20, 0, 222 << 20, true};
  s.usage.pids = 12 + i % 30;
  s.usage.container_cpu_ns = {{sandbox_id, 20000000}, {app_id, 123450000000 + seed}};
  const int64_t pid = s.info.pid;
  s.processes = {
      {pid, ProcessRole::kSentry, "", 260 << 20, 230 << 20, 200 << 20, 10 << 20, 20 << 20, 95.25,
       40.5, 24, 2000000, 3000, 1500000, 12},
      {pid + 1, ProcessRole::kGofer, sandbox_id, 8 << 20, 6 << 20, 4 << 20, 2 << 20, 0, 0.1, 0.2, 6,
       10, 5, 300, 0},
      {pid + 2, ProcessRole::kGofer, app_id, 20 << 20, 14 << 20, 10 << 20, 4 << 20, 0, 3.5, 7.25, 8,
       80000, 100, 2400, 1},
      {pid + 3, ProcessRole::kStub, "", 1 << 20, 1 << 20, 0, 0, 0, 0, 0.5, 1, 50, 1, 10, 0},
      {pid + 4, ProcessRole::kStub, "", 1 << 20, 1 << 20, 0, 0, 0, 0, 0.5, 1, 50, 1, 10, 0}};
  HostCgroup cg;
  cg.memory_usage_bytes = 512 << 20;
  cg.memory_working_set_bytes = 480 << 20;
  cg.memory_rss_bytes = 300 << 20;
  cg.memory_cache_bytes = 180 << 20;
  cg.memory_shmem_bytes = 160 << 20;
  cg.memory_mapped_file_bytes = 30 << 20;
  cg.cpu_usage_seconds = 1234.5 + i;
  cg.cpu_user_seconds = 800.25;
  cg.cpu_system_seconds = 434.25 + i;
  s.cgroup = cg;
  s.platform = {"systrap", "sandbox", "exclusive", "root:self", false, false, false, "cmdline"};
  if (syscalls) {
    SandboxSyscalls sc;
    sc.mode = "attach";
    sc.state = TraceSessionState::kActive;
    sc.dropped_events = Mix(seed + 5) % 5000;
    sc.containers = {MakeContainerSyscalls(sandbox_id, seed + 100),
                     MakeContainerSyscalls(app_id, seed + 200)};
    std::sort(sc.containers.begin(), sc.containers.end(),
              [](const ContainerSyscalls& a, const ContainerSyscalls& b) {
                return a.container_id < b.container_id;
              });
    s.syscalls = std::move(sc);
  }
  s.poll_duration_seconds = 0.0004;
  s.runtime_handler = "runsc";
  s.runtime_class = "gvisor";
  return s;
}

// A node with `n` gVisor sandboxes, syscall statistics off or on, as the
// default configuration (CRI on, Kubernetes API off) polls it.
inline NodeSnapshot MakeNode(int n, bool syscalls, uint64_t poll_count = 1) {
  NodeSnapshot node;
  node.timestamp_seconds = 1795000000;
  node.poll_duration_seconds = 0.002 * n;
  node.poll_count = poll_count;
  node.node.runsc_version = "release-20241217.0";
  node.node.kvm_device_present = false;
  node.roots = {"/run/containerd/runsc/k8s.io"};
  for (const char* src : {"runsc_state", "control_socket", "procfs", "cgroup", "platform", "cri"}) {
    node.sources[src] = {true, 0.0001 * n};
  }
  node.sandboxes.reserve(n);
  for (int i = 0; i < n; ++i) node.sandboxes.push_back(MakeSandbox(i, syscalls));
  std::sort(
      node.sandboxes.begin(), node.sandboxes.end(),
      [](const SandboxSnapshot& a, const SandboxSnapshot& b) { return a.info.id < b.info.id; });
  if (syscalls) {
    node.sources["syscalls"] = {true, 0.00002 * n};
    TracePacketCounts p;
    p.syscall = 987654321ULL * static_cast<uint64_t>(n);
    p.ignored = 12345;
    p.handshake = 0;
    node.trace_packets = p;
  }
  CriState cri;
  cri.up = true;
  cri.version = "0.1.0";
  cri.runtime_name = "containerd";
  cri.runtime_version = "v1.7.24";
  for (const SandboxSnapshot& s : node.sandboxes) {
    PodInfo p;
    p.id = s.info.id;
    p.name = s.info.pod_name;
    p.pod_namespace = s.info.pod_namespace;
    p.uid = s.info.pod_uid;
    p.ready = true;
    p.runtime_handler = "runsc";
    p.runtime_class = "gvisor";
    p.sandboxed = true;
    cri.pods.push_back(std::move(p));
  }
  // The node's own DaemonSets under runc.
  uint64_t k = 0;
  for (const char* ds : {"kube-proxy", "calico-node", "node-exporter", "fluent-bit",
                         "csi-node-driver", "gvisor-exporter"}) {
    PodInfo p;
    const uint64_t seed = Mix(0xda7a5e7 + ++k);
    p.id = Id(seed);
    p.name = PodName(ds, seed).substr(0, std::string(ds).size() + 6);
    p.pod_namespace = "kube-system";
    p.uid = Uid(seed + 1);
    p.ready = true;
    p.sandboxed = false;
    cri.pods.push_back(std::move(p));
  }
  std::sort(cri.pods.begin(), cri.pods.end(), [](const PodInfo& a, const PodInfo& b) {
    return std::tie(a.pod_namespace, a.name, a.id) < std::tie(b.pod_namespace, b.name, b.id);
  });
  node.cri = std::move(cri);
  return node;
}

}  // namespace synthetic
}  // namespace gvisor_exporter
