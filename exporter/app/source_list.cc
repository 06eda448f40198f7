#include "exporter/app/source_list.h"

#include "exporter/common/log.h"
#include "exporter/sources/cli/cli_source.h"
#include "exporter/sources/control/control_socket_source.h"
#include "exporter/sources/cri/cri_source.h"
#include "exporter/sources/host/host_source.h"
#include "exporter/sources/kube/kube_source.h"
#include "exporter/sources/runsc_state/runsc_state_source.h"
#include "exporter/sources/trace/trace_session_source.h"

namespace gvisor_exporter {

namespace {

// Each source's options from the flags: the only place that knows both.

RunscCliOptions CliOptions(const Flags& flags) {
  RunscCliOptions cli;
  cli.runsc_path = flags.runsc_path;
  cli.timeout = flags.cli_timeout;
  return cli;
}

// The runsc version decides per-release defaults (e.g. ptrace vs systrap);
// it is read once at start: runsc is not upgraded under a running node agent
// without restarting its DaemonSet.
std::string RunscVersion(const Flags& flags, ErrorReporter* errors) {
  auto v = RunscCli(CliOptions(flags)).Version();
  if (v.ok()) return *v;
  errors->Report("cli", v.status(), "runsc --version");
  return "";
}

RootScannerOptions StateOptions(const Flags& flags) {
  RootScannerOptions scan;
  scan.roots = flags.runsc_roots;
  scan.root_parents = flags.runsc_root_parents;
  scan.proc_root = flags.procfs;
  return scan;
}

ControlClientOptions ControlOptions(const Flags& flags) {
  ControlClientOptions control;
  control.urpc.call_timeout = flags.control_timeout;
  return control;
}

HostReaderOptions HostOptions(const Flags& flags, const std::string& runsc_version) {
  HostReaderOptions host;
  host.proc.proc_root = flags.procfs;
  host.proc.pss_max_age = flags.pss_max_age;
  host.cgroup_root = flags.cgroupfs;
  host.runsc_version = runsc_version;
  return host;
}

// Null when syscall statistics are off or the trace reader cannot start (said
// once, counted, and the rest of the exporter runs).
std::unique_ptr<Source> SyscallSource(const Flags& flags, ErrorReporter* errors) {
  if (!flags.syscalls_attach && flags.syscalls_listen.empty()) return nullptr;
  TraceSessionOptions trace;
  trace.all = flags.syscalls_all;
  trace.namespaces.insert(flags.syscalls_namespaces.begin(), flags.syscalls_namespaces.end());
  trace.attach = flags.syscalls_attach;
  trace.errors = flags.syscalls_errors;
  trace.syscalls = flags.syscalls_filter;
  trace.sample_on = flags.syscalls_sample_on;
  trace.sample_period = flags.syscalls_sample_period;
  trace.reader.coalesce =
      std::chrono::duration_cast<std::chrono::microseconds>(flags.syscalls_reader_pause);
  trace.reader.realtime_priority = flags.syscalls_reader_priority;
  trace.force = flags.syscalls_force;
  trace.record_path = flags.syscalls_record_file;
  trace.urpc.call_timeout = flags.control_timeout;
  trace.reader.listen_path = flags.syscalls_listen;
  trace.reader.limits.max_syscalls = static_cast<size_t>(flags.syscalls_max_per_container);
  trace.reader.limits.max_errors = static_cast<size_t>(flags.syscalls_max_errors_per_container);
  auto source = std::make_unique<TraceSessionSource>(std::move(trace), errors);
  Status started = source->Start();
  if (started.ok()) return source;
  LogError("syscall statistics disabled: cannot start the trace reader",
           {{"err", started.message()}});
  errors->Report("syscalls", started, "trace reader");
  return nullptr;
}

std::unique_ptr<Source> KubeSource(const Flags& flags, ErrorReporter* errors) {
  if (flags.kubernetes_api.empty()) return nullptr;
  KubeSourceOptions kube;
  auto server = ResolveApiServer(flags.kubernetes_api);
  // An unresolvable in-cluster address is reported at every refresh (and
  // gvisor_kubernetes_api_up stays 0) rather than stopping the exporter.
  if (server.ok()) {
    kube.client.server = *server;
  } else {
    kube.config_error = server.status();
  }
  kube.client.ca_file = flags.kubernetes_ca_file;
  kube.client.token_file = flags.kubernetes_token_file;
  kube.client.timeout = flags.kubernetes_timeout;
  kube.refresh = flags.kubernetes_refresh;
  return std::make_unique<KubeRuntimeClassSource>(std::move(kube), errors);
}

std::unique_ptr<Source> CriSource(const Flags& flags, ErrorReporter* errors) {
  if (flags.cri_endpoint.empty()) return nullptr;
  CriSourceOptions cri;
  cri.client.endpoint = flags.cri_endpoint;
  cri.timeout = flags.cri_timeout;
  cri.mapping.gvisor_handlers.insert(flags.runtime_handlers.begin(), flags.runtime_handlers.end());
  cri.mapping.runtime_classes = flags.runtime_classes;
  cri.mapping.pod_labels = flags.cri_pod_labels;
  cri.mapping.policy_namespaces = flags.policy_sandboxed_namespaces;
  return std::make_unique<CriPodSource>(std::move(cri), errors);
}

}  // namespace

Sources MakeSources(const Flags& f, ErrorReporter* errors) {
  const std::string version = RunscVersion(f, errors);
  // A source reads what the sources above it wrote; null entries (disabled by
  // flags) are skipped. A new source is one more line here.
  std::unique_ptr<Source> in_poll_order[] = {
      std::make_unique<RunscStateSource>(StateOptions(f), errors),  // first: the sandboxes
      std::make_unique<NodeProbeSource>(version, f.devfs),
      std::make_unique<ControlSocketSource>(ControlOptions(f), f.memory_full),
      f.cli_fallback ? std::make_unique<CliSource>(CliOptions(f), f.memory_full) : nullptr,
      std::make_unique<HostSource>(HostOptions(f, version), f.host, errors),
      SyscallSource(f, errors),
      KubeSource(f, errors),  // before CRI: its classes name the pods
      CriSource(f, errors),
  };
  Sources sources;
  for (auto& s : in_poll_order) {
    if (s) sources.push_back(std::move(s));
  }
  return sources;
}

}  // namespace gvisor_exporter
