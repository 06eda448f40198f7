// The runtime-specific `info` of a verbose PodSandboxStatus reply.
//
// containerd puts one JSON document under key "info" (pid, runtimeHandler,
// runtimeType, runtimeOptions, config, runtimeSpec). It is untrusted input:
// size- and depth-limited, and only the few fields the mapping uses are kept.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// A verbose info document is ~10 KB (it embeds the OCI spec); anything far
// larger is not containerd's.
inline constexpr size_t kMaxVerboseInfoBytes = 1 << 20;

struct VerboseInfo {
  int64_t pid = 0;             // the pod's pid (the sentry for gVisor pods); 0 when absent
  std::string runtime_type;    // e.g. "io.containerd.runc.v2", "io.containerd.runsc.v1"
  std::string runtime_root;    // runtimeOptions.root ("" when absent)
  std::string runtime_binary;  // runtimeOptions.binary_name ("" when absent)
};

// Parses containerd's info["info"] document. Fields of the wrong type or
// over 4 KB are treated as absent; the document itself must be
// a JSON object within the limits.
StatusOr<VerboseInfo> ParseVerboseInfo(std::string_view json);

// The runtime type of containerd's gVisor shim (containerd-shim-runsc-v1).
inline constexpr char kRunscRuntimeType[] = "io.containerd.runsc.v1";

}  // namespace gvisor_exporter
