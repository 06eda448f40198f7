#include "exporter/sources/runsc_state/sandbox_builder.h"

#include <algorithm>
#include <utility>

#include "exporter/sources/runsc_state/proc_check.h"

namespace gvisor_exporter {

namespace {

// Pause container first, the others by id: the order SandboxInfo promises.
void SortContainers(const std::string& sandbox_id, std::vector<ParsedStateFile>* files) {
  std::sort(files->begin(), files->end(), [&](const ParsedStateFile& a, const ParsedStateFile& b) {
    const bool a_pause = a.container_id == sandbox_id;
    const bool b_pause = b.container_id == sandbox_id;
    if (a_pause != b_pause) return a_pause;
    return a.container_id < b.container_id;
  });
}

// The first non-empty value of `field` over the files (already in priority order).
template <typename Getter>
std::string FirstNonEmpty(const std::vector<ParsedStateFile>& files, Getter field) {
  for (const ParsedStateFile& f : files) {
    const std::string& v = field(f);
    if (!v.empty()) return v;
  }
  return "";
}

void FillPod(const std::vector<ParsedStateFile>& files, SandboxInfo* info) {
  info->pod_name =
      FirstNonEmpty(files, [](const ParsedStateFile& f) { return f.annotations.sandbox_name; });
  if (info->pod_name.empty()) {
    info->pod_name = FirstNonEmpty(files, [](const ParsedStateFile& f) { return f.pod_name; });
  }
  info->pod_namespace = FirstNonEmpty(
      files, [](const ParsedStateFile& f) { return f.annotations.sandbox_namespace; });
  if (info->pod_namespace.empty()) {
    info->pod_namespace =
        FirstNonEmpty(files, [](const ParsedStateFile& f) { return f.pod_namespace; });
  }
  info->pod_uid =
      FirstNonEmpty(files, [](const ParsedStateFile& f) { return f.annotations.sandbox_uid; });
  info->syscalls_annotation =
      FirstNonEmpty(files, [](const ParsedStateFile& f) { return f.annotations.syscalls; });
}

ContainerInfo MakeContainer(const std::string& sandbox_id, const ParsedStateFile& f,
                            const std::string& proc_root, KeptFiles* kept, PidWatch* watch) {
  ContainerInfo c;
  c.id = f.container_id;
  c.is_pause = f.container_id == sandbox_id;
  c.name = c.is_pause ? "" : f.annotations.container_name;
  c.status = f.status;
  c.gofer_pid = IsGoferAlive(proc_root, f.gofer_pid, kept, watch) ? f.gofer_pid : 0;
  c.image = f.annotations.image_name;
  c.created_at = f.created_at;
  return c;
}

}  // namespace

StatusOr<SandboxInfo> BuildSandbox(const std::string& root, const std::string& sandbox_id,
                                   std::vector<ParsedStateFile> files, const std::string& proc_root,
                                   KeptFiles* kept, PidWatch* watch) {
  if (files.empty()) return InternalError("sandbox " + sandbox_id + " has no state files");
  SortContainers(sandbox_id, &files);
  const ParsedStateFile& primary = files.front();

  StatusOr<uint64_t> start_time =
      CheckSentry(proc_root, primary.sandbox_pid, sandbox_id, kept, watch);
  if (!start_time.ok()) return start_time.status();

  SandboxInfo info;
  info.root = root;
  info.id = sandbox_id;
  info.pid = primary.sandbox_pid;
  info.pid_start_time = *start_time;
  FillPod(files, &info);
  info.cgroup = primary.cgroup;
  info.control_socket_path = primary.control_socket_path;
  info.metric_metadata = primary.metric_metadata;
  info.containers.reserve(files.size());
  for (const ParsedStateFile& f : files) {
    info.containers.push_back(MakeContainer(sandbox_id, f, proc_root, kept, watch));
  }
  return info;
}

}  // namespace gvisor_exporter
