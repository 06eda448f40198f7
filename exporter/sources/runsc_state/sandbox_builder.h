// Turns the parsed state files of one sandbox into a SandboxInfo.
#pragma once

#include <string>
#include <vector>

#include "exporter/common/kept_files.h"
#include "exporter/common/pid_watch.h"
#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"
#include "exporter/sources/runsc_state/state_file.h"

namespace gvisor_exporter {

// `files` are the state files of one root whose sandbox id is `sandbox_id`
// (at least one). The pause container (container id == sandbox id) is the
// primary source for the sentry pid, cgroup, control socket and metric
// metadata; without it (its file lost or unreadable) the subcontainer with the
// smallest id stands in: every container's file carries the same `sandbox`
// block. Pod name/namespace/uid come from the first container (pause first,
// then by id) whose CRI annotations have them, else the newer top-level
// podName/namespace fields.
//
// The sentry must be alive (CheckSentry, through `watch` or `kept` when given), else the error
// (kNotFound for a stale file) is returned. Gofers that are gone get gofer_pid 0; the container is
// still listed with the status its file records.
StatusOr<SandboxInfo> BuildSandbox(const std::string& root, const std::string& sandbox_id,
                                   std::vector<ParsedStateFile> files, const std::string& proc_root,
                                   KeptFiles* kept = nullptr, PidWatch* watch = nullptr);

}  // namespace gvisor_exporter
