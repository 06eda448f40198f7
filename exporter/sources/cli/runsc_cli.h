// Fallback source of in-sandbox usage: the runsc CLI, exec'd without a shell.
//
// Each runsc call costs ~30 ms wall and ~10 ms CPU (measured), roughly 300x a
// control socket call, so this is for sandboxes whose socket is unreachable.
//
// CPU: this path reports NO per-container CPU (container_cpu_ns stays empty).
// `runsc events -stats <id>` prints, as cpu.usage.total, the sandbox's HOST
// cgroup CPU multiplied by that container's share of the sentry's accounting;
// the pause container's share is ~0 (measured: `"cpu":{"usage":{}}` while the
// app container had 480 ms), so the sandbox's line is not the sandbox's CPU,
// and getting every container's share costs one more exec per container. Its
// unit also differs by host (µs on cgroup v2 before runsc 20240325) and it is
// host CPU, not the sentry's own count the control socket reports, so mixing
// the two into one counter would make it jump when the path switches. The
// sandbox's total CPU is read from its host cgroup by the cgroup source.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

struct RunscCliOptions {
  // Looked up in PATH when it has no '/'.
  std::string runsc_path = "runsc";
  // Per runsc invocation; the child is killed when it runs longer.
  std::chrono::milliseconds timeout{5000};
  size_t max_output_bytes = 1 << 20;
};

class RunscCli {
 public:
  explicit RunscCli(RunscCliOptions options = {});

  // Runs `runsc --root <root> events -stats <id>` (pids) and
  // `runsc --root <root> usage [-full] <id>` (memory). path=kCli.
  // A sandbox runsc does not know fails with kNotFound; another non-zero exit
  // with kRemote carrying runsc's stderr.
  StatusOr<SandboxUsage> Collect(const SandboxInfo& sb, bool full_memory = false);

  // `runsc --version` -> "0.0~20221219.0".
  StatusOr<std::string> Version();

  const RunscCliOptions& options() const { return options_; }

 private:
  // Runs runsc with `args`; fails unless it exits 0.
  StatusOr<std::string> Run(const std::vector<std::string>& args);

  RunscCliOptions options_;
};

// Parses the first line of `runsc --version` ("runsc version <v>").
StatusOr<std::string> ParseRunscVersion(std::string_view output);

}  // namespace gvisor_exporter
