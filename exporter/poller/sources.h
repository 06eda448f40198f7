// The small interfaces the poller reads through. Real implementations wrap
// the source modules (runsc state dir, control socket, runsc CLI, /proc,
// cgroupfs); tests substitute fixture-backed ones.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

struct Discovery {
  std::vector<std::string> roots;      // roots that exist
  std::vector<SandboxInfo> sandboxes;  // live sandboxes, sorted by (root, id)
  // false when an existing root could not be listed or a limit cut the result;
  // per-file problems (stale, half-written) are routine and only counted.
  bool success = true;
};

class DiscoverySource {
 public:
  virtual ~DiscoverySource() = default;
  virtual Discovery Discover() = 0;
};

// In-sandbox usage (control socket or CLI).
class UsageSource {
 public:
  virtual ~UsageSource() = default;
  virtual StatusOr<SandboxUsage> Collect(const SandboxInfo& sandbox) = 0;
  // Forget per-sandbox state (connections) of sandboxes not in `live`
  // (keys from SandboxKey()).
  virtual void Retain(const std::set<std::string>& live) {}
};

// Host-side facts about a sandbox.
class HostSource {
 public:
  virtual ~HostSource() = default;
  virtual StatusOr<std::vector<HostProcess>> Processes(const SandboxInfo& sandbox) = 0;
  virtual StatusOr<HostCgroup> Cgroup(const SandboxInfo& sandbox) = 0;
  virtual StatusOr<SandboxPlatform> Platform(const SandboxInfo& sandbox) = 0;
  // Once per poll, after every read: forget what belongs to sandboxes not in
  // `live` (keys from SandboxKey()).
  virtual void Retain(const std::set<std::string>& live) {}
};

// Node-wide facts (runsc version, KVM); probed rarely.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  virtual NodeInfo Probe() = 0;
};

// Syscall statistics from runtime-monitoring trace sessions.
struct SyscallSync {
  bool success = true;  // false when a session operation failed this poll
  std::map<std::string, SandboxSyscalls> sandboxes;  // by SandboxKey()
  TracePacketCounts packets;
};

class SyscallSource {
 public:
  virtual ~SyscallSource() = default;
  // Once per poll, with the live sandboxes: starts and stops trace sessions
  // so that exactly the opted-in sandboxes have one, and returns the
  // statistics of every sandbox that has one.
  virtual SyscallSync Sync(const std::vector<SandboxInfo>& live) = 0;
  // Removes the sessions this exporter created (at shutdown).
  virtual void Shutdown() {}
};

// Pods from the container runtime (CRI), mapped to sandboxes and policy.
struct PodSync {
  bool success = true;  // false when a call failed this poll (the runtime down included)
  CriState state;       // state.up false: runtime unreachable, no pods
};

class PodSource {
 public:
  virtual ~PodSource() = default;
  // Once per poll, with the live sandboxes (they tell which pods run under
  // gVisor). Bounded by the source's deadline; never one call per pod per poll.
  virtual PodSync Sync(const std::vector<SandboxInfo>& live) = 0;
};

// RuntimeClasses from the Kubernetes API (handler -> class, declared overhead).
struct RuntimeClassSync {
  bool success = true;  // false when the last request failed (the state is then !up)
  KubeState state;
};

class RuntimeClassSource {
 public:
  virtual ~RuntimeClassSource() = default;
  // Once per poll. Does I/O only when a refresh is due (its own schedule,
  // much slower than polls), bounded by the source's timeout; otherwise
  // returns the state of the last refresh at once.
  virtual RuntimeClassSync Refresh() = 0;
};

// Identifies a sandbox across polls (a sandbox id is unique within its root).

}  // namespace gvisor_exporter
