#include "exporter/app/flags.h"

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

#include "exporter/sources/cri/pod_mapper.h"
#include "exporter/sources/kube/kube_client.h"
#include "exporter/sources/trace/syscall_names.h"

namespace gvisor_exporter {

StatusOr<std::chrono::milliseconds> ParseDuration(const std::string& s) {
  if (s.empty()) return InvalidError("empty duration");
  double total_ms = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.')) ++j;
    if (j == i) return InvalidError("bad duration: " + s);
    const std::string number = s.substr(i, j - i);
    char* end = nullptr;
    const double v = std::strtod(number.c_str(), &end);  // no exceptions on ".", "1.2.3"
    if (end != number.c_str() + number.size()) return InvalidError("bad duration: " + s);
    size_t k = j;
    while (k < s.size() && s[k] >= 'a' && s[k] <= 'z') ++k;
    const std::string unit = s.substr(j, k - j);
    static const std::map<std::string, double> kUnits = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    auto it = kUnits.find(unit);
    if (it == kUnits.end()) return InvalidError("bad duration unit in " + s + " (use ms, s, m, h)");
    total_ms += v * it->second;
    i = k;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(total_ms));
}

namespace {

Status ParseBool(const std::string& v, bool* out) {
  if (v == "true" || v == "1") {
    *out = true;
  } else if (v == "false" || v == "0") {
    *out = false;
  } else {
    return InvalidError("bad boolean: " + v);
  }
  return Status::Ok();
}

// "a,b,,c" -> {"a","b","c"}
std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream in(v);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Syscall names of this architecture, or numbers, to syscall numbers.
Status ParseSyscallList(const std::string& v, std::vector<uint64_t>* out) {
  const Arch arch = HostArch();
  for (const std::string& item : SplitList(v)) {
    char* end = nullptr;
    const uint64_t n = std::strtoull(item.c_str(), &end, 10);
    if (*end == '\0' && n < SyscallTableSize(arch)) {
      out->push_back(n);
      continue;
    }
    bool found = false;
    for (uint64_t nr = 0; nr < SyscallTableSize(arch); ++nr) {
      if (SyscallName(arch, nr) == item) {
        out->push_back(nr);
        found = true;
        break;
      }
    }
    if (!found) return InvalidError("--syscalls.filter: unknown syscall " + item);
  }
  return Status::Ok();
}

// --syscalls.sample=ON/PERIOD, e.g. 10s/60s; "off" (or "") = always traced.
Status ParseSample(const std::string& v, Flags* f) {
  if (v.empty() || v == "off") {
    f->syscalls_sample_on = f->syscalls_sample_period = std::chrono::milliseconds(0);
    return Status::Ok();
  }
  const size_t slash = v.find('/');
  if (slash == std::string::npos) {
    return InvalidError("--syscalls.sample must be ON/PERIOD, e.g. 10s/60s, or off");
  }
  auto on = ParseDuration(v.substr(0, slash));
  auto period = ParseDuration(v.substr(slash + 1));
  if (!on.ok()) return InvalidError("--syscalls.sample: " + on.status().message());
  if (!period.ok()) return InvalidError("--syscalls.sample: " + period.status().message());
  if (on->count() <= 0 || *on >= *period) {
    return InvalidError("--syscalls.sample: ON must be positive and shorter than PERIOD");
  }
  f->syscalls_sample_on = *on;
  f->syscalls_sample_period = *period;
  return Status::Ok();
}

Status ParseLimit(const std::string& v, const char* flag, int* out) {
  char* end = nullptr;
  const int64_t n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 1 || n > 512) {
    return InvalidError(std::string(flag) + " must be 1..512");
  }
  *out = static_cast<int>(n);
  return Status::Ok();
}

// --cri.pod-labels: valid Kubernetes label keys whose label_ names differ.
Status ParsePodLabels(const std::string& v, std::vector<std::string>* keys) {
  for (const std::string& key : SplitList(v)) {
    if (!IsValidLabelKey(key)) return InvalidError("--cri.pod-labels: bad label key " + key);
    for (const std::string& k : *keys) {
      if (PodLabelName(k) == PodLabelName(key)) {
        return InvalidError("--cri.pod-labels: " + k + " and " + key + " are both exposed as " +
                            PodLabelName(key));
      }
    }
    if (keys->size() >= kMaxPodLabels) {
      return InvalidError("--cri.pod-labels: at most " + std::to_string(kMaxPodLabels) + " keys");
    }
    keys->push_back(key);
  }
  return Status::Ok();
}

// --runtime.handlers / --policy.sandboxed-namespaces: lists of names.
Status ParseNames(const std::string& v, const char* flag, std::vector<std::string>* out) {
  for (const std::string& n : SplitList(v)) {
    if (!IsValidCriName(n)) return InvalidError(std::string(flag) + ": bad name " + n);
    out->push_back(n);
  }
  return Status::Ok();
}

}  // namespace

StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags f;
  bool parents_set = false, handlers_set = false, classes_set = false;
  using Setter = std::function<Status(const std::string&)>;
  auto str = [](std::string* dst) {
    return Setter([dst](const std::string& v) {
      *dst = v;
      return Status::Ok();
    });
  };
  auto dur = [](std::chrono::milliseconds* dst) {
    return Setter([dst](const std::string& v) {
      auto d = ParseDuration(v);
      if (!d.ok()) return d.status();
      if (d->count() <= 0) return InvalidError("duration must be positive: " + v);
      *dst = *d;
      return Status::Ok();
    });
  };
  const std::map<std::string, Setter> values = {
      {"web.listen-address", str(&f.listen_address)},
      {"web.telemetry-path", str(&f.telemetry_path)},
      {"web.config.file", str(&f.web_config_file)},
      {"log.level",
       [&](const std::string& v) {
         if (v != "debug" && v != "info" && v != "warn" && v != "error")
           return InvalidError("bad --log.level: " + v);
         f.log_level = v;
         return Status::Ok();
       }},
      {"log.format",
       [&](const std::string& v) {
         if (v != "logfmt" && v != "json") return InvalidError("bad --log.format: " + v);
         f.log_format = v;
         return Status::Ok();
       }},
      {"runsc.root",
       [&](const std::string& v) {
         f.runsc_roots.push_back(v);
         return Status::Ok();
       }},
      {"runsc.root-parent",
       [&](const std::string& v) {
         if (!parents_set) f.runsc_root_parents.clear();
         parents_set = true;
         if (!v.empty()) f.runsc_root_parents.push_back(v);
         return Status::Ok();
       }},
      {"runsc.path", str(&f.runsc_path)},
      {"runsc.cli-timeout", dur(&f.cli_timeout)},
      {"control.timeout", dur(&f.control_timeout)},
      {"collector.host.pss-max-age",
       [&](const std::string& v) {  // 0 allowed: re-read every poll
         auto d = ParseDuration(v);
         if (!d.ok()) return d.status();
         f.pss_max_age = *d;
         return Status::Ok();
       }},
      {"poll.interval", dur(&f.poll_interval)},
      {"poll.concurrency",
       [&](const std::string& v) {
         char* end = nullptr;
         const int64_t n = std::strtoll(v.c_str(), &end, 10);
         if (v.empty() || *end != '\0' || n < 1 || n > 64)
           return InvalidError("--poll.concurrency must be 1..64");
         f.poll_concurrency = static_cast<int>(n);
         return Status::Ok();
       }},
      {"path.procfs", str(&f.procfs)},
      {"path.cgroupfs", str(&f.cgroupfs)},
      {"path.devfs", str(&f.devfs)},
      {"syscalls.namespaces",
       [&](const std::string& v) {
         for (auto& ns : SplitList(v)) f.syscalls_namespaces.push_back(ns);
         return Status::Ok();
       }},
      {"syscalls.listen", str(&f.syscalls_listen)},
      {"syscalls.filter",
       [&](const std::string& v) { return ParseSyscallList(v, &f.syscalls_filter); }},
      {"syscalls.record-file", str(&f.syscalls_record_file)},
      {"syscalls.sample", [&](const std::string& v) { return ParseSample(v, &f); }},
      {"syscalls.max-per-container",
       [&](const std::string& v) {
         return ParseLimit(v, "--syscalls.max-per-container", &f.syscalls_max_per_container);
       }},
      {"syscalls.max-errors-per-container",
       [&](const std::string& v) {
         return ParseLimit(v, "--syscalls.max-errors-per-container",
                           &f.syscalls_max_errors_per_container);
       }},
      {"cri.endpoint", str(&f.cri_endpoint)},
      {"cri.timeout", dur(&f.cri_timeout)},
      {"cri.pod-labels",
       [&](const std::string& v) { return ParsePodLabels(v, &f.cri_pod_labels); }},
      {"runtime.handlers",
       [&](const std::string& v) {
         // The first use replaces the default; later ones add.
         if (!handlers_set) f.runtime_handlers.clear();
         handlers_set = true;
         return ParseNames(v, "--runtime.handlers", &f.runtime_handlers);
       }},
      {"runtime.classes",
       [&](const std::string& v) {
         if (!classes_set) f.runtime_classes.clear();
         classes_set = true;
         auto m = ParseRuntimeClasses(v);
         if (!m.ok()) return m.status();
         for (const auto& [handler, cls] : *m) {
           if (!f.runtime_classes.emplace(handler, cls).second)
             return InvalidError("--runtime.classes: handler " + handler + " given twice");
         }
         return Status::Ok();
       }},
      {"kubernetes.api",
       [&](const std::string& v) {
         // URLs are checked here for shape; in-cluster resolves at start.
         if (v == "off" || v.empty()) {
           f.kubernetes_api.clear();
         } else if (v == "in-cluster") {
           f.kubernetes_api = v;
         } else {
           auto server = ResolveApiServer(v);
           if (!server.ok()) return server.status();
           f.kubernetes_api = *server;
         }
         return Status::Ok();
       }},
      {"kubernetes.token-file", str(&f.kubernetes_token_file)},
      {"kubernetes.ca-file", str(&f.kubernetes_ca_file)},
      {"kubernetes.refresh", dur(&f.kubernetes_refresh)},
      {"kubernetes.timeout", dur(&f.kubernetes_timeout)},
      {"policy.sandboxed-namespaces",
       [&](const std::string& v) {
         return ParseNames(v, "--policy.sandboxed-namespaces", &f.policy_sandboxed_namespaces);
       }},
  };
  const std::map<std::string, bool*> bools = {{"runsc.cli-fallback", &f.cli_fallback},
                                              {"collector.memory.full", &f.memory_full},
                                              {"collector.host", &f.host},
                                              {"syscalls.all", &f.syscalls_all},
                                              {"syscalls.attach", &f.syscalls_attach},
                                              {"syscalls.errors", &f.syscalls_errors},
                                              {"syscalls.force", &f.syscalls_force},
                                              {"print-metrics-doc", &f.print_metrics_doc},
                                              {"version", &f.version},
                                              {"help", &f.help}};

  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "-h") a = "--help";
    if (a.rfind("--", 0) != 0) return InvalidError("unexpected argument: " + a);
    std::string name = a.substr(2), value;
    const auto eq = name.find('=');
    const bool has_value = eq != std::string::npos;
    if (has_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (auto b = bools.find(name); b != bools.end()) {
      if (!has_value) {
        *b->second = true;
      } else {
        GVE_RETURN_IF_ERROR(ParseBool(value, b->second).WithContext("--" + name));
      }
      continue;
    }
    if (name.rfind("no-", 0) == 0 && !has_value) {
      if (auto b = bools.find(name.substr(3)); b != bools.end()) {
        *b->second = false;
        continue;
      }
    }
    auto s = values.find(name);
    if (s == values.end()) return InvalidError("unknown flag --" + name + " (see --help)");
    if (!has_value) {
      if (i + 1 >= args.size()) return InvalidError("flag --" + name + " needs a value");
      value = args[++i];
    }
    GVE_RETURN_IF_ERROR(s->second(value));
  }
  return f;
}

std::string FlagsUsage() {
  return R"(Usage: gvisor-exporter [flags]

Per-node Prometheus exporter for gVisor (runsc) sandboxes.

  --web.listen-address=":9787"   address to serve HTTP on (host:port; host numeric or localhost)
  --web.telemetry-path="/metrics" path under which metrics are served
  --web.config.file=""           exporter-toolkit web config (YAML): TLS, client certificates,
                                 basic_auth_users (bcrypt), security headers; "" = plain HTTP.
                                 Certificate and key files are re-read when they change; basic
                                 auth covers every path but /healthz
  --log.level=info               debug, info, warn or error
  --log.format=logfmt            logfmt or json
  --runsc.root=DIR               a runsc root to scan (repeatable)
  --runsc.root-parent=DIR        every directory under DIR is a runsc root (repeatable;
                                 default /run/containerd/runsc; an empty value disables it)
  --runsc.path=runsc             runsc binary for the CLI fallback and version probe
  --[no-]runsc.cli-fallback      use `runsc events -stats` + `runsc usage` when the control
                                 socket fails (default on)
  --runsc.cli-timeout=5s         deadline for one runsc CLI call
  --control.timeout=1s           deadline for one control-socket call
  --poll.interval=5s             how often sandboxes are read (scrapes never trigger reads)
  --poll.concurrency=4           sandboxes read in parallel
  --[no-]collector.memory.full   fill every in-sandbox memory category (Usage.Collect Full;
                                 default on); off: only Total, Mapped and Unknown
  --[no-]collector.host           host cost of each sandbox: its processes (smaps_rollup, stat,
                                 per-thread status) and cgroup, and the overhead (default on)
  --collector.host.pss-max-age=30s
                                 re-read a process's smaps_rollup (PSS; a walk of all its pages)
                                 when this old or when its RSS moved by more than 1/64; 0s: every
                                 poll
  --path.procfs=/proc  --path.cgroupfs=/sys/fs/cgroup  --path.devfs=/dev

Syscall statistics (gVisor runtime monitoring; opt-in, each traced syscall costs the sandbox
~6 us on ptrace):
  --syscalls.all                 trace every sandbox
  --syscalls.namespaces=NS,...   trace sandboxes of pods in these namespaces (repeatable)
                                 (pods opt in or out with annotation gvisor-exporter.io/syscalls:
                                 "true"/"false"; containerd must pass it through:
                                 pod_annotations = ["gvisor-exporter.io/*"])
  --[no-]syscalls.attach         create the sandbox's trace session over its control socket
                                 (default on); off: only listen mode
  --syscalls.listen=PATH         also accept sandboxes started with a pod-init config whose
                                 remote sink endpoint is PATH (listen mode; default off)
  --[no-]syscalls.errors         also trace syscall exits: errors by errno, unimplemented (ENOSYS)
                                 syscalls (default on; doubles the events)
  --syscalls.filter=NAME,...     trace only these syscalls (names or numbers; default all)
  --syscalls.sample=ON/PERIOD    attach mode: trace ON out of every PERIOD (e.g. 10s/60s), so the
                                 workload pays the tracing cost only then; counts go out as
                                 *_sampled_total with the traced time (default off: exact)
  --syscalls.force               replace another consumer's trace session (default: leave it)
  --syscalls.record-file=/run/gvisor-exporter/trace-sessions.json
                                 where the sessions this exporter created are recorded, so a
                                 restarted exporter replaces its own and no one else's
  --syscalls.max-per-container=128         syscall series per container (then "other")
  --syscalls.max-errors-per-container=64   (syscall, errno) series per container

Pods, RuntimeClasses and sandbox policy (containerd's CRI API):
  --cri.endpoint=unix:///run/containerd/containerd.sock
                                 CRI runtime to list pods from ("" disables)
  --cri.timeout=2s               deadline for all CRI calls of one poll
  --cri.pod-labels=KEY,...       pod labels exposed on gvisor_pod_labels as label_<key>
                                 (at most 32; default none)
  --runtime.handlers=runsc       handlers that run gVisor (repeatable; handlers whose pods are
                                 found under a runsc root count as gVisor too)
  --runtime.classes=runsc=gvisor handler=RuntimeClass pairs (repeatable)
  --policy.sandboxed-namespaces=NS,...
                                 namespaces whose pods must run under gVisor (repeatable);
                                 other pods there show up in gvisor_policy_unsandboxed_pod

RuntimeClasses from the Kubernetes API (node.k8s.io/v1; needs list on runtimeclasses):
  --kubernetes.api=off           off, in-cluster (https://$KUBERNETES_SERVICE_HOST:
                                 $KUBERNETES_SERVICE_PORT) or https://host:port; when the list is
                                 available it replaces --runtime.classes and gives each class's
                                 declared overhead.podFixed
  --kubernetes.token-file=/var/run/secrets/kubernetes.io/serviceaccount/token
                                 bearer token, re-read at every request ("" = none)
  --kubernetes.ca-file=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt
                                 CA the API server's certificate must chain to ("" = system store)
  --kubernetes.refresh=5m        how often RuntimeClasses are listed (failures retry sooner)
  --kubernetes.timeout=5s        deadline for one request, connect included
  --print-metrics-doc            print the metric reference (METRICS.md) and exit
  --version                      print the version and exit
)";
}

}  // namespace gvisor_exporter
