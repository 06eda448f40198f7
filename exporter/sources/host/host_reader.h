// This module behind one object, read by HostSource (host_source.h): what a
// sandbox costs the host and how it is configured. Safe to call from several
// poller workers at once.
//
// What does not change while a sandbox lives is remembered per sandbox (under
// a mutex), so that a steady poll reads only what moves:
// - its process set (sentry, gofers, stubs with their start times): found
//   again only when the sandbox cgroup's cgroup.procs, the sentry, the gofer
//   pids of its state, or a member's start time changed. A sandbox without a
//   readable cgroup is searched on every poll, as before.
// - the sentry's command line (for Platform), per sentry incarnation.
// Retain() drops what belongs to sandboxes that are gone.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exporter/common/error_reporter.h"
#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"
#include "exporter/sources/host/cgroup.h"
#include "exporter/sources/host/proc_reader.h"

namespace gvisor_exporter {

struct HostReaderOptions {
  ProcReaderOptions proc;                      // proc.proc_root: --path.procfs
  std::string cgroup_root = "/sys/fs/cgroup";  // --path.cgroupfs
  // Keep each sandbox's process set between polls while its cgroup members
  // stay the same (see above). false: search /proc on every poll.
  bool reuse_process_set = true;
  // `runsc --version` of the node: picks the release defaults for flags a
  // sentry command line leaves out. "" -> the state file's metricMetadata
  // "version" if any, else those fields are "unknown".
  std::string runsc_version;
};

class HostReader {
 public:
  explicit HostReader(HostReaderOptions options, ErrorReporter* errors = nullptr);

  // Sentry first, then gofers, then stubs. kNotFound exactly when the sentry
  // is gone (or its pid was reused): the sandbox no longer exists. Other
  // processes that vanish are skipped; other per-process failures are
  // reported to the ErrorReporter (source "procfs") and skipped.
  StatusOr<std::vector<HostProcess>> Processes(const SandboxInfo& sandbox);

  // See CgroupReader::Read.
  StatusOr<HostCgroup> Cgroup(const SandboxInfo& sandbox) const;

  // metricMetadata (newer state files) merged with the sentry's command line;
  // either alone when the other is unavailable. kNotFound when neither is.
  StatusOr<SandboxPlatform> Platform(const SandboxInfo& sandbox);

  // Once per poll, after the reads: forgets the sandboxes whose key
  // (SandboxKey) is not in `live` and closes the files no read used.
  void Retain(const std::set<std::string>& live);

 private:
  struct Remembered {
    int64_t sentry_pid = 0;
    uint64_t sentry_start = 0;
    std::vector<std::pair<std::string, int64_t>> gofers;  // container id, gofer pid
    std::vector<int64_t> members;                         // cgroup.procs, sorted
    std::vector<ProcessRef> refs;                         // empty: search again
    std::optional<std::vector<std::string>> sentry_argv;
  };
  // The remembered process set when it still describes `sandbox`.
  std::optional<std::vector<ProcessRef>> RememberedRefs(const SandboxInfo& sandbox,
                                                        const std::vector<int64_t>& members);
  void Remember(const SandboxInfo& sandbox, std::vector<int64_t> members,
                std::vector<ProcessRef> refs);
  // Must hold mu_. The entry of `sandbox` (created when new).
  Remembered& EntryLocked(const SandboxInfo& sandbox);

  HostReaderOptions options_;
  ErrorReporter* errors_;
  ProcReader proc_;
  CgroupReader cgroup_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Remembered> remembered_;  // by SandboxKey
};

}  // namespace gvisor_exporter
