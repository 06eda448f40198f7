// The data model shared by sources, the poller and the collectors.
//
// Data flows one way: sources fill these plain structs, the poller assembles
// them into one immutable NodeSnapshot, collectors render it at scrape time.
// Nothing here does I/O.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <utility>
#include <vector>

namespace gvisor_exporter {

// Facts of a source that the model does not name (a new source, or one only
// a test registers): the source defines its own struct in its folder, puts it
// here, and its metric definitions read it back, so adding one touches no
// file outside that folder. Keyed by the struct's type; immutable once put,
// shared by copies. The sources the exporter ships use the named fields
// below, which the views and the joins read too.
class Extensions {
 public:
  template <typename T>
  void Put(T facts) {
    parts_[std::type_index{typeid(T)}] = std::make_shared<const T>(std::move(facts));
  }
  // Null when no source put a T.
  template <typename T>
  const T* Get() const {
    auto it = parts_.find(std::type_index{typeid(T)});
    return it == parts_.end() ? nullptr : static_cast<const T*>(it->second.get());
  }

 private:
  std::map<std::type_index, std::shared_ptr<const void>> parts_;
};

// Host cgroup of a sandbox as recorded in its state file.
struct CgroupRef {
  enum class Kind { kNone, kV1, kV2, kSystemd };
  Kind kind = Kind::kNone;
  // v1: the cgroup path below each controller mount (e.g. "/kubepods/pod<uid>/<id>").
  // v2: path below the unified mount. Always absolute, never contains "..".
  std::string path;
  // v2 only: mountpoint from the state file ("/sys/fs/cgroup"); informational.
  std::string mountpoint;
};

// One container of a sandbox, from its state file (<ctr>_sandbox:<sb>.state).
struct ContainerInfo {
  std::string id;          // runsc container id (validated)
  std::string name;        // CRI container name; "" for the pause container
  bool is_pause = false;   // container id == sandbox id
  std::string status;      // creating|created|running|paused|stopped
  int64_t gofer_pid = 0;   // 0 when unknown / dead
  std::string image;       // CRI image name annotation, may be ""
  std::string created_at;  // RFC3339 from the state file
};

// One sandbox (= one pod = one sentry process), from the state directory.
struct SandboxInfo {
  std::string root;                 // the runsc root directory it was found under
  std::string id;                   // sandbox id (= pause container id = CRI pod sandbox id)
  int64_t pid = 0;                  // sentry host pid, confirmed alive via /proc
  uint64_t pid_start_time = 0;      // /proc/<pid>/stat starttime (jiffies); guards pid reuse
  std::string pod_name;             // io.kubernetes.cri.sandbox-name ("" outside Kubernetes)
  std::string pod_namespace;        // io.kubernetes.cri.sandbox-namespace
  std::string pod_uid;              // io.kubernetes.cri.sandbox-uid
  std::string syscalls_annotation;  // gvisor-exporter.io/syscalls ("true" opts in)
  CgroupRef cgroup;
  std::string control_socket_path;  // newer runsc (>= 20230920); "" -> abstract socket
  std::map<std::string, std::string> metric_metadata;  // newer runsc (>= 20230130)
  std::vector<ContainerInfo> containers;               // pause container first, then by id
};

// The key of a sandbox across sources and polls: "<root>\n<id>" (one id can
// exist under two runsc roots).
inline std::string SandboxKey(const SandboxInfo& s) { return s.root + "\n" + s.id; }

// Memory accounting inside the sandbox (runsc usage / Usage.Collect), bytes.
struct SandboxMemory {
  uint64_t unknown = 0, system = 0, anonymous = 0, page_cache = 0, mapped = 0, tmpfs = 0,
           ramdiskfs = 0, total = 0;
  bool full = false;  // categories filled (Full scan) vs only Unknown/Mapped/Total
};

// How the in-sandbox usage was obtained.
enum class StatsPath { kNone, kControlSocket, kCli };
const char* StatsPathName(StatsPath p);

// In-sandbox usage, from containerManager.Event + Usage.Collect or the CLI.
// One interface of the sandbox's network stack as the sentry reports it
// (containerManager.Event's network_interfaces, runsc >= 2023). Cumulative.
struct NetworkInterface {
  std::string name;
  uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};

struct SandboxUsage {
  StatsPath path = StatsPath::kNone;
  std::optional<SandboxMemory> memory;
  std::optional<uint64_t> pids;  // tasks in the sandbox (sandbox-wide in 20221219)
  // Sentry's per-container CPU accounting, nanoseconds (10 ms granularity).
  std::map<std::string, uint64_t> container_cpu_ns;
  // Absent when the sentry does not report them (runsc 20221219).
  std::optional<std::vector<NetworkInterface>> network;
};

// kOther: a sentry descendant that is not a stub (runsc's short-lived umount helper).
enum class ProcessRole { kSentry, kGofer, kStub, kOther };
const char* ProcessRoleName(ProcessRole r);

// One host process belonging to a sandbox, from /proc/<pid>/{stat,status,smaps_rollup}.
struct HostProcess {
  int64_t pid = 0;
  ProcessRole role = ProcessRole::kOther;
  std::string container_id;  // for gofers: the container they serve
  uint64_t rss_bytes = 0;
  uint64_t pss_bytes = 0;
  uint64_t pss_anon_bytes = 0, pss_file_bytes = 0, pss_shmem_bytes = 0;
  double cpu_user_seconds = 0, cpu_system_seconds = 0;
  uint64_t threads = 0;
  uint64_t voluntary_ctxt_switches = 0, nonvoluntary_ctxt_switches = 0;
  uint64_t minor_faults = 0, major_faults = 0;
};

// The sandbox's host cgroup.
struct HostCgroup {
  std::optional<uint64_t> memory_usage_bytes;  // v1 memory.usage_in_bytes / v2 memory.current
  std::optional<uint64_t>
      memory_working_set_bytes;  // usage - inactive_file (cAdvisor's definition)
  std::optional<uint64_t> memory_rss_bytes, memory_cache_bytes, memory_shmem_bytes,
      memory_mapped_file_bytes;
  std::optional<double> cpu_usage_seconds;  // v1 cpuacct.usage / v2 cpu.stat usage_usec
  std::optional<double> cpu_user_seconds, cpu_system_seconds;
};

// Platform and configuration of a running sandbox.
struct SandboxPlatform {
  std::string platform;     // ptrace|systrap|kvm|...
  std::string network;      // sandbox|host|none
  std::string file_access;  // exclusive|shared; "" when only metadata is known
  std::string overlay;      // none|root:memory|root:self|all:memory|root:dir|all:dir|unknown
  bool debug = false;
  bool strace = false;
  bool pod_init_config = false;
  std::string source;  // "cmdline" or "metadata"
};

// Syscall statistics of one container, from a runtime-monitoring trace
// session. Counters are cumulative since the session started; the label sets
// are sticky (a syscall that got a series keeps it), and beyond the per-
// container limit events are counted under syscall "other".
struct ContainerSyscalls {
  std::string container_id;                             // from the events' context; "" when absent
  std::vector<std::pair<std::string, uint64_t>> calls;  // syscall -> enter events
  struct Error {
    std::string syscall, errno_name;
    uint64_t count = 0;
  };
  std::vector<Error> errors;  // exit events with errno != 0 (only with exit points)
  std::vector<std::pair<std::string, uint64_t>> unimplemented;  // ENOSYS by syscall
};

// How the exporter receives a sandbox's events, and how that is going.
enum class TraceSessionState {
  kActive,   // our session (attach) or connection (listen) is delivering events
  kForeign,  // another consumer owns the sandbox's session; left alone (no --syscalls.force)
  kError,    // attaching failed or the session was lost; retried with backoff
  kPaused,   // sampling (--syscalls.sample): between two traced windows, no session
};
const char* TraceSessionStateName(TraceSessionState s);

struct SandboxSyscalls {
  std::string mode;  // "attach" (we created the session) or "listen" (pod-init config)
  TraceSessionState state = TraceSessionState::kError;
  // Events the sentry could not send (sink full: the exporter fell behind),
  // cumulative; from the packets' wrapping dropped_count and, in attach mode,
  // the session's own count.
  uint64_t dropped_events = 0;
  std::vector<ContainerSyscalls> containers;  // by container id
  // Sampling (--syscalls.sample=ON/PERIOD): `containers` then counts only the
  // syscalls made while a session existed, `traced_seconds` in total (the
  // current window included). Rendered under *_sampled_total names, never as
  // exact counts.
  bool sampled = false;
  double traced_seconds = 0;
};

// What the trace reader did with the packets it received (all sandboxes).
struct TracePacketCounts {
  uint64_t syscall = 0;        // raw syscall event counted
  uint64_t ignored = 0;        // a known type we do not aggregate
  uint64_t unknown_type = 0;   // message_type unknown to this build
  uint64_t malformed = 0;      // bad header or payload
  uint64_t truncated = 0;      // larger than the packet buffer
  uint64_t invalid_sysno = 0;  // syscall number out of range
  uint64_t handshake = 0;      // listen-mode handshakes completed
};

// Everything known about one sandbox at one poll.
struct SandboxSnapshot {
  SandboxInfo info;
  SandboxUsage usage;
  std::vector<HostProcess> processes;  // sentry first
  std::optional<HostCgroup> cgroup;
  SandboxPlatform platform;
  std::optional<SandboxSyscalls> syscalls;  // only for sandboxes with syscall statistics on
  double poll_duration_seconds = 0;
  // From the CRI pod with this sandbox's id; "" when CRI is off, down or does
  // not list the pod.
  std::string runtime_handler;  // RuntimeClass handler, e.g. "runsc"
  std::string runtime_class;    // RuntimeClass name (Kubernetes API, else --runtime.classes)
  Extensions extensions;        // facts of sources the model does not name
};

// One pod sandbox as listed by the CRI runtime (runc pods included), mapped.
struct PodInfo {
  std::string id;  // CRI pod sandbox id (= runsc sandbox id for gVisor pods)
  std::string name, pod_namespace, uid;
  bool ready = false;           // SANDBOX_READY vs SANDBOX_NOTREADY
  std::string runtime_handler;  // "" = the runtime's default handler
  std::string runtime_class;    // "" when the handler is not in --runtime.classes
  bool sandboxed = false;       // runs under a gVisor handler
  // Ready, not sandboxed, in a --policy.sandboxed-namespaces namespace.
  bool policy_violation = false;
  // Values of the --cri.pod-labels allowlist, in flag order ("" when unset).
  std::vector<std::string> labels;
};

// What the CRI runtime said at this poll.
struct CriState {
  bool up = false;  // the runtime answered this poll; false: no pods are served
  std::string version, runtime_name, runtime_version;  // from Version
  std::vector<PodInfo> pods;                           // sorted by (namespace, name, id)
  // Sanitized label names (label_<key>) of the allowlist, matching PodInfo::labels.
  std::vector<std::string> label_names;
  std::vector<std::string> policy_namespaces;  // --policy.sandboxed-namespaces
};

// One node.k8s.io/v1 RuntimeClass from the Kubernetes API.
struct RuntimeClassInfo {
  std::string name, handler;
  // Declared overhead.podFixed; nullopt when the class does not declare it.
  std::optional<uint64_t> overhead_memory_bytes;
  std::optional<double> overhead_cpu_cores;
};

// What the Kubernetes API said (set when --kubernetes.api is not off).
struct KubeState {
  bool up = false;  // the last request for RuntimeClasses succeeded
  // The last good list (kept while the API fails); nullopt before the first
  // success. Sorted by name.
  std::optional<std::vector<RuntimeClassInfo>> runtime_classes;
};

// Per-source health of one poll (rendered as collector success/duration).
struct SourceHealth {
  bool success = true;
  double duration_seconds = 0;
};

struct NodeInfo {
  std::string runsc_version;  // "" when runsc not found
  bool kvm_device_present = false;
  bool kvm_usable = false;  // /dev/kvm opens O_RDWR and KVM_GET_API_VERSION answers 12
};

// One immutable picture of the node, replaced wholesale at every poll.
struct NodeSnapshot {
  double timestamp_seconds = 0;  // wall clock at the end of the poll (for snapshot age)
  double poll_duration_seconds = 0;
  uint64_t poll_count = 0;  // polls completed since start, this one included
  NodeInfo node;
  std::vector<std::string> roots;               // roots scanned (existing ones)
  std::vector<SandboxSnapshot> sandboxes;       // sorted by (root, id)
  std::map<std::string, SourceHealth> sources;  // "runsc_state", "control_socket", "cli", "procfs",
                                                // "cgroup", "syscalls", "cri", "kubernetes"
  std::optional<TracePacketCounts> trace_packets;  // set when syscall statistics are enabled
  // How the trace reader thread is scheduled: "realtime", "nice" or "normal"
  // (it asks for realtime; see TraceReader::Options); "" before it started.
  std::string trace_reader_scheduling;
  std::optional<CriState> cri;    // set when a CRI endpoint is configured
  std::optional<KubeState> kube;  // set when --kubernetes.api is not off
  Extensions extensions;          // facts of sources the model does not name
};

}  // namespace gvisor_exporter
