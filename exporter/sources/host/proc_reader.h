// What a sandbox's host processes cost, from /proc.
//
// A sandbox is: the sentry (runsc-sandbox, pid in the state file), one gofer
// per container (runsc-gofer; its parent is init, not the sentry) and, on the
// ptrace and systrap platforms, stub processes that run the application's
// address spaces. Stubs are children of a sentry THREAD (and children of
// stubs), so they are found through /proc/<pid>/task/<tid>/children; the
// process-wide /proc/<pid>/stat ppid would miss none but costs a scan of all
// of /proc. Verified on runsc 20221219 (ptrace): the set found this way equals
// the sandbox cgroup's cgroup.procs.
//
// A process that disappears while being read is normal (sandboxes die between
// discovery and reading): Read() then fails with kNotFound and ReadSandbox()
// skips it silently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "exporter/common/kept_files.h"
#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"
#include "exporter/sources/host/procfs.h"
#include "exporter/sources/host/pss_cache.h"
#include "exporter/sources/host/taskstats.h"

namespace gvisor_exporter {

struct ProcReaderOptions {
  std::string proc_root = "/proc";
  // Context switches of a process = those of all its threads. The leader's
  // /proc/<pid>/status only has the leader thread's own switches (a real
  // sentry: 24 voluntary there vs 692 summed over its 14 threads).
  // Taskstats (below) sums them in the kernel; kernels with "taskstats:
  // retain dead thread stats in TGID queries" (6.18 here) include threads
  // that exited, so the value never drops. Older kernels and the /proc way
  // (a status file per thread) count live threads only: the sum can drop
  // when a thread exits (a counter reset to Prometheus). false: report the
  // leader's counts only (one read instead of one per thread).
  bool sum_thread_ctxt_switches = true;
  // Take that sum from one taskstats query per process (taskstats.h) instead
  // of one status file per thread. Used only when proc_root numbers pids as
  // this process does (its "self" is our pid) and the kernel allows it
  // (CAP_NET_ADMIN); otherwise, or after a refused query, /proc is read.
  bool taskstats = true;
  // smaps_rollup (PSS) of a process is re-read when it is this old, or when
  // its RSS moved by more than pss_rss_tolerance since (see PssCache). 0:
  // re-read on every Read().
  std::chrono::milliseconds pss_max_age{0};
  double pss_rss_tolerance = 1.0 / 64;
  size_t max_threads = 4096;      // threads summed per process
  size_t max_descendants = 4096;  // stub processes per sandbox
  int max_depth = 8;              // stub generations below the sentry
};

// One process of a sandbox as found by FindSandboxProcesses().
struct ProcessRef {
  int64_t pid = 0;
  ProcessRole role = ProcessRole::kOther;
  std::string container_id;  // gofers: the container they serve
  // starttime from /proc/<pid>/stat when found: a later Read() with it tells
  // this process from a reuse of its pid. Not part of equality.
  uint64_t start_time = 0;
  bool operator==(const ProcessRef& o) const {
    return pid == o.pid && role == o.role && container_id == o.container_id;
  }
};

// Its state (the PSS cache, kept /proc files, the taskstats client, the count
// of runsc processes) is shared by copies and locked or atomic: safe to share
// between threads.
class ProcReader {
 public:
  explicit ProcReader(std::string proc_root = "/proc");
  explicit ProcReader(ProcReaderOptions options);

  // Reads stat, smaps_rollup (or its cached rollup, see pss_max_age; RSS then
  // comes from stat) and the per-thread status files of one process.
  // When expected_start_time != 0 and the process's start time differs, the
  // pid was reused: kNotFound. Zombies are kNotFound too.
  StatusOr<HostProcess> Read(int64_t pid, ProcessRole role, uint64_t expected_start_time = 0) const;

  // Read of each ref (ref.start_time as the expected start time), in order.
  // The context switches of all of them come from one batched taskstats
  // exchange (taskstats.h: two system calls in all).
  std::vector<StatusOr<HostProcess>> ReadMany(const std::vector<ProcessRef>& refs) const;

  // The sentry (if alive and its start time matches sandbox.pid_start_time,
  // when set), the gofer of every container (gofer_pid != 0, confirmed to be a
  // runsc gofer by its cmdline), then every descendant of the sentry: kStub
  // when its cmdline is empty (stubs unmap everything), kOther otherwise (e.g.
  // runsc's short-lived `umount` helper). A pid appears at most once. A gone
  // or reused sentry contributes neither itself nor descendants.
  std::vector<ProcessRef> FindSandboxProcesses(const SandboxInfo& sandbox) const;

  // The argv of one process incarnation: kNotFound when it is gone or (with
  // expected_start_time != 0) the pid now belongs to another process.
  StatusOr<std::vector<std::string>> ReadCmdline(int64_t pid, uint64_t expected_start_time) const;

  // FindSandboxProcesses + Read for each, in that order (sentry first).
  // Vanished processes are skipped; other failures are appended to `errors`
  // (when not null) and the process is skipped.
  std::vector<HostProcess> ReadSandbox(const SandboxInfo& sandbox,
                                       std::vector<Status>* errors = nullptr) const;

  const ProcReaderOptions& options() const { return options_; }

  // Once per poll: closes the kept /proc files no Read used since the last
  // call (processes that are gone), and takes the number of sentries and
  // gofers read since then as the node's runsc sharers (pss_cache.h).
  void EndRound() const {
    kept_->EndRound();
    sharers_->last.store(sharers_->counting.exchange(0, std::memory_order_relaxed),
                         std::memory_order_relaxed);
  }

 private:
  // stat of a live, non-zombie process, or kNotFound.
  StatusOr<ProcStat> ReadStat(int64_t pid) const;
  // ReadCmdline that also yields the incarnation's start time.
  StatusOr<std::vector<std::string>> ReadCmdlineAt(int64_t pid, uint64_t expected_start_time,
                                                   uint64_t* start_time) const;
  bool HasSubcommand(int64_t pid, std::string_view subcommand, uint64_t* start_time) const;
  std::optional<ProcessRole> ClassifyDescendant(int64_t pid, uint64_t* start_time) const;
  // The /proc/<pid> directory fd of the process being read, opened lazily.
  using DirFd = std::function<StatusOr<int>()>;
  // The /proc way: one status file per thread.
  StatusOr<uint64_t> SumThreadStatusFiles(const DirFd& proc_dir_fd, uint64_t* nonvoluntary) const;
  // Opens /proc/<pid> into *dir and parses the stat read through it.
  StatusOr<ProcStat> OpenWithStat(int64_t pid, UniqueFd* dir) const;
  // /proc/<pid>, opened on first use into `holder`, of the incarnation
  // started at `start_time` (else kNotFound).
  DirFd VerifiedDir(int64_t pid, uint64_t start_time, std::shared_ptr<UniqueFd> holder) const;
  // stat of a live, non-zombie incarnation, through a kept descriptor.
  StatusOr<ProcStat> ReadKeptStat(int64_t pid, uint64_t expected_start_time) const;
  // The process read from its stat and `cached` rollup (read now when
  // unset). With defer_switches the context switches are left for the caller.
  StatusOr<HostProcess> Complete(int64_t pid, ProcessRole role, const ProcStat& st,
                                 std::optional<SmapsRollup> cached, bool defer_switches) const;
  std::vector<int64_t> ChildrenOf(int64_t pid) const;
  void AddDescendants(int64_t sentry, std::vector<ProcessRef>* out,
                      std::unordered_set<int64_t>* seen) const;

  // smaps_rollup of a live process incarnation: the cached one if still
  // fresh, or read now (and cached).
  PssCache::Moment PssMoment(const ProcStat& st) const;
  std::optional<SmapsRollup> CachedRollup(int64_t pid, const ProcStat& st) const;
  StatusOr<SmapsRollup> ReadRollup(const DirFd& proc_dir_fd, int64_t pid, const ProcStat& st) const;

  // Sentries and gofers read this round (counting) and last round (last).
  struct Sharers {
    std::atomic<uint64_t> counting{0};
    std::atomic<uint64_t> last{0};
  };

  ProcReaderOptions options_;
  double ticks_per_second_;
  uint64_t page_size_;
  std::shared_ptr<PssCache> pss_cache_;  // null when pss_max_age is 0
  std::shared_ptr<KeptFiles> kept_;      // /proc/<pid>/stat kept open
  // Null when taskstats is off or unusable; shared by copies of this reader.
  std::shared_ptr<TaskstatsClient> taskstats_;
  std::shared_ptr<std::atomic<bool>> taskstats_refused_;
  std::shared_ptr<Sharers> sharers_;
};

}  // namespace gvisor_exporter
