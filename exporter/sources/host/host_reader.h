// This module behind one object, shaped for the poller's HostSource
// (exporter/poller/sources.h): what a sandbox costs the host and how it is
// configured. Const and stateless apart from its options: safe to call from
// several poller workers at once.
#pragma once

#include <string>
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
  StatusOr<std::vector<HostProcess>> Processes(const SandboxInfo& sandbox) const;

  // See CgroupReader::Read.
  StatusOr<HostCgroup> Cgroup(const SandboxInfo& sandbox) const;

  // metricMetadata (newer state files) merged with the sentry's command line;
  // either alone when the other is unavailable. kNotFound when neither is.
  StatusOr<SandboxPlatform> Platform(const SandboxInfo& sandbox) const;

 private:
  HostReaderOptions options_;
  ErrorReporter* errors_;
  ProcReader proc_;
  CgroupReader cgroup_;
};

}  // namespace gvisor_exporter
