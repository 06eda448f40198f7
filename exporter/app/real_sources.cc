#include "exporter/app/real_sources.h"

#include "exporter/common/log.h"
#include "exporter/sources/cli/runsc_cli.h"
#include "exporter/sources/control/control_client.h"
#include "exporter/sources/cri/cri_source.h"
#include "exporter/sources/host/host_reader.h"
#include "exporter/sources/host/platform.h"
#include "exporter/sources/kube/kube_source.h"
#include "exporter/sources/runsc_state/root_scanner.h"
#include "exporter/sources/trace/trace_session_source.h"

namespace gvisor_exporter {

namespace {

class StateDirDiscovery : public DiscoverySource {
 public:
  StateDirDiscovery(RootScannerOptions o, ErrorReporter* errors) : scanner_(std::move(o), errors) {}
  Discovery Discover() override {
    ScanResult r = scanner_.Scan();
    return {std::move(r.roots_found), std::move(r.sandboxes), r.success};
  }

 private:
  RootScanner scanner_;
};

class ControlSocketUsage : public UsageSource {
 public:
  ControlSocketUsage(ControlClientOptions o, bool full) : client_(o), full_(full) {}
  StatusOr<SandboxUsage> Collect(const SandboxInfo& s) override {
    return client_.Collect(s, full_);
  }
  void Retain(const std::set<std::string>& live) override { client_.Retain(live); }

 private:
  ControlSocketClient client_;
  bool full_;
};

class CliUsage : public UsageSource {
 public:
  CliUsage(RunscCliOptions o, bool full) : cli_(std::move(o)), full_(full) {}
  StatusOr<SandboxUsage> Collect(const SandboxInfo& s) override { return cli_.Collect(s, full_); }

 private:
  RunscCli cli_;
  bool full_;
};

class HostReaderSource : public HostSource {
 public:
  HostReaderSource(HostReaderOptions o, ErrorReporter* errors) : reader_(std::move(o), errors) {}
  StatusOr<std::vector<HostProcess>> Processes(const SandboxInfo& s) override {
    return reader_.Processes(s);
  }
  StatusOr<HostCgroup> Cgroup(const SandboxInfo& s) override { return reader_.Cgroup(s); }
  StatusOr<SandboxPlatform> Platform(const SandboxInfo& s) override { return reader_.Platform(s); }
  void Retain(const std::set<std::string>& live) override { reader_.Retain(live); }

 private:
  HostReader reader_;
};

class NodeProbe : public NodeSource {
 public:
  NodeProbe(std::string version, std::string dev_root)
      : version_(std::move(version)), dev_root_(std::move(dev_root)) {}
  NodeInfo Probe() override { return ProbeNode(version_, dev_root_); }

 private:
  std::string version_, dev_root_;
};

}  // namespace

PollerSources MakeRealSources(const Flags& flags, ErrorReporter* errors) {
  RunscCliOptions cli_options;
  cli_options.runsc_path = flags.runsc_path;
  cli_options.timeout = flags.cli_timeout;
  // The runsc version decides per-release defaults (e.g. ptrace vs systrap);
  // it is read once at start: runsc is not upgraded under a running node agent
  // without restarting its DaemonSet.
  std::string version;
  if (auto v = RunscCli(cli_options).Version(); v.ok()) {
    version = *v;
  } else {
    errors->Report("cli", v.status(), "runsc --version");
  }

  PollerSources s;
  RootScannerOptions scan;
  scan.roots = flags.runsc_roots;
  scan.root_parents = flags.runsc_root_parents;
  scan.proc_root = flags.procfs;
  s.discovery = std::make_unique<StateDirDiscovery>(std::move(scan), errors);

  ControlClientOptions control;
  control.urpc.call_timeout = flags.control_timeout;
  s.control_socket = std::make_unique<ControlSocketUsage>(control, flags.memory_full);
  if (flags.cli_fallback) s.cli = std::make_unique<CliUsage>(cli_options, flags.memory_full);

  HostReaderOptions host;
  host.proc.proc_root = flags.procfs;
  host.proc.pss_max_age = flags.pss_max_age;
  host.cgroup_root = flags.cgroupfs;
  host.runsc_version = version;
  s.host = std::make_unique<HostReaderSource>(std::move(host), errors);
  s.node = std::make_unique<NodeProbe>(version, flags.devfs);

  if (flags.syscalls_attach || !flags.syscalls_listen.empty()) {
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
    trace.force = flags.syscalls_force;
    trace.record_path = flags.syscalls_record_file;
    trace.urpc.call_timeout = flags.control_timeout;
    trace.reader.listen_path = flags.syscalls_listen;
    trace.reader.limits.max_syscalls = static_cast<size_t>(flags.syscalls_max_per_container);
    trace.reader.limits.max_errors = static_cast<size_t>(flags.syscalls_max_errors_per_container);
    auto source = std::make_unique<TraceSessionSource>(std::move(trace), errors);
    Status started = source->Start();
    if (started.ok()) {
      s.syscalls = std::move(source);
    } else {
      LogError("syscall statistics disabled: cannot start the trace reader",
               {{"err", started.message()}});
      errors->Report("syscalls", started, "trace reader");
    }
  }
  if (!flags.cri_endpoint.empty()) {
    CriSourceOptions cri;
    cri.client.endpoint = flags.cri_endpoint;
    cri.timeout = flags.cri_timeout;
    cri.mapping.gvisor_handlers.insert(flags.runtime_handlers.begin(),
                                       flags.runtime_handlers.end());
    cri.mapping.runtime_classes = flags.runtime_classes;
    cri.mapping.pod_labels = flags.cri_pod_labels;
    cri.mapping.policy_namespaces = flags.policy_sandboxed_namespaces;
    s.pods = std::make_unique<CriPodSource>(std::move(cri), errors);
  }
  if (!flags.kubernetes_api.empty()) {
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
    s.runtime_classes = std::make_unique<KubeRuntimeClassSource>(std::move(kube), errors);
  }
  return s;
}

}  // namespace gvisor_exporter
