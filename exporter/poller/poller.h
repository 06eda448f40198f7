// The poller: on every tick it reads all sources once and publishes one
// immutable NodeSnapshot. Sandboxes are read by a small fixed pool of workers
// so a sandbox whose socket hangs (bounded by the source's timeout) does not
// delay the others; nothing here is ever on a scrape's path.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "exporter/common/error_reporter.h"
#include "exporter/model/snapshot_store.h"
#include "exporter/poller/sources.h"
#include "exporter/poller/worker_pool.h"

namespace gvisor_exporter {

struct PollerOptions {
  std::chrono::milliseconds interval{5000};
  int concurrency = 4;                                    // sandboxes read in parallel
  std::chrono::milliseconds node_probe_interval{600000};  // runsc version / KVM
  bool cli_fallback = true;
  bool host = true;  // host processes + cgroup (--[no-]collector.host)
  // Called on the poll thread right after each snapshot is published (the
  // collector pre-renders it there, off the scrape path).
  std::function<void()> after_publish;
};

struct PollerSources {
  std::unique_ptr<DiscoverySource> discovery;
  std::unique_ptr<UsageSource> control_socket;
  std::unique_ptr<UsageSource> cli;  // may be null (fallback disabled)
  std::unique_ptr<HostSource> host;
  std::unique_ptr<NodeSource> node;
  std::unique_ptr<SyscallSource> syscalls;              // null: syscall statistics off
  std::unique_ptr<PodSource> pods;                      // null: CRI off (--cri.endpoint="")
  std::unique_ptr<RuntimeClassSource> runtime_classes;  // null: --kubernetes.api=off
};

// Names each pod's RuntimeClass from the Kubernetes API's list, which then
// replaces --runtime.classes entirely (a handler no class declares gets "").
void ApplyRuntimeClasses(const std::vector<RuntimeClassInfo>& classes, std::vector<PodInfo>* pods);

class Poller {
 public:
  Poller(PollerOptions options, PollerSources sources, SnapshotStore* store, ErrorReporter* errors);
  ~Poller();

  // Runs one full poll synchronously and publishes its snapshot.
  void PollOnce();
  // Polls every interval on a background thread until Stop().
  void Start();
  // Stops polling and shuts the sources down (removes our trace sessions).
  void Stop();

  // Polls completed so far.
  uint64_t polls() const { return polls_.load(); }

 private:
  SandboxSnapshot ReadSandbox(const SandboxInfo& info, std::map<std::string, SourceHealth>* health);

  PollerOptions options_;
  PollerSources sources_;
  SnapshotStore* store_;
  ErrorReporter* errors_;
  std::atomic<uint64_t> polls_{0};
  NodeInfo node_;
  std::chrono::steady_clock::time_point last_node_probe_{};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool shut_down_ = false;
  std::thread thread_;
  WorkerPool workers_;  // concurrency - 1 helpers; the poll thread is a worker too
};

}  // namespace gvisor_exporter
