#include "exporter/app/flags.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>
#include <utility>

#include "exporter/sources/cri/pod_mapper.h"
#include "exporter/sources/kube/kube_client.h"
#include "exporter/sources/trace/syscall_names.h"

namespace gvisor_exporter {

namespace {

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

// A usage error from a flag's value: CLI11 passes the message on verbatim.
[[noreturn]] void Fail(const std::string& message) { throw CLI::ValidationError(message); }

void Check(const Status& s) {
  if (!s.ok()) Fail(s.message());
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// A duration flag's value, in the one grammar (common/duration.h), within
// [min, max] (min 0 or 1 ms: no flag here wants sub-millisecond precision).
std::chrono::milliseconds DurationValue(const std::string& flag, const std::string& v,
                                        std::chrono::milliseconds min,
                                        std::chrono::milliseconds max) {
  StatusOr<std::chrono::nanoseconds> d = ParseDuration(v);
  if (!d.ok()) Fail(flag + ": " + d.status().message());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  if (ms < min || ms > max) {
    Fail(flag + " must be " +
         (max == std::chrono::milliseconds::max()
              ? "at least " + FormatDuration(min)
              : (min.count() == 0 ? "0s" : FormatDuration(min)) + ".." + FormatDuration(max)) +
         ", not " + v);
  }
  return ms;
}

// --syscalls.sample=ON/PERIOD, e.g. 10s/1m; "off" = always traced.
void ParseSample(const std::string& v, Flags* f) {
  if (v.empty() || v == "off") {
    f->syscalls_sample_on = f->syscalls_sample_period = std::chrono::milliseconds(0);
    return;
  }
  const size_t slash = v.find('/');
  if (slash == std::string::npos) Fail("--syscalls.sample must be ON/PERIOD, e.g. 10s/1m, or off");
  const auto on = DurationValue("--syscalls.sample", v.substr(0, slash),
                                std::chrono::milliseconds(1), std::chrono::milliseconds::max());
  const auto period = DurationValue("--syscalls.sample", v.substr(slash + 1),
                                    std::chrono::milliseconds(1), std::chrono::milliseconds::max());
  if (on >= period) Fail("--syscalls.sample: ON must be shorter than PERIOD, not " + v);
  f->syscalls_sample_on = on;
  f->syscalls_sample_period = period;
}

// Adds flags to one CLI11 (sub)command. Every value flag takes one value per
// use and may be repeated; its callback sees all uses in order (so "the first
// use replaces the default" is a `first` step), and the last use wins for
// single values, as in the Go exporters' kingpin.
class FlagTable {
 public:
  explicit FlagTable(CLI::App* app) : app_(app) {}

  void Group(std::string name) { group_ = std::move(name); }

  void Value(const std::string& name, const std::string& type, const std::string& shown_default,
             const std::string& help, std::function<void(const std::string&)> each,
             std::function<void()> first = nullptr) {
    app_->add_option(
            "--" + name,
            [each = std::move(each), first = std::move(first)](const CLI::results_t& values) {
              if (first) first();
              for (const std::string& v : values) each(v);
              return true;
            },
            help)
        ->type_name(type)
        ->default_str(shown_default)
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
        ->group(group_);
  }

  void String(const std::string& name, const std::string& type, std::string* dst,
              const std::string& help) {
    Value(name, type, *dst, help, [dst](const std::string& v) { *dst = v; });
  }

  // A positive duration (`min` 0: zero allowed).
  void Duration(const std::string& name, std::chrono::milliseconds* dst, const std::string& help,
                std::chrono::milliseconds min = std::chrono::milliseconds(1),
                std::chrono::milliseconds max = std::chrono::milliseconds::max()) {
    Value(name, "DURATION", FormatDuration(*dst), help,
          [=](const std::string& v) { *dst = DurationValue("--" + name, v, min, max); });
  }

  void Int(const std::string& name, int* dst, int min, int max, const std::string& help) {
    Value(name, "INT", std::to_string(*dst), help, [=](const std::string& v) {
      char* end = nullptr;
      const int64_t n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < min || n > max) {
        Fail("--" + name + " must be " + std::to_string(min) + ".." + std::to_string(max));
      }
      *dst = static_cast<int>(n);
    });
  }

  // `--name`, `--name=true|false` and, when `negatable`, `--no-name`.
  void Bool(const std::string& name, bool* dst, const std::string& help, bool negatable = true) {
    const std::string names = negatable ? "--" + name + ",!--no-" + name : "--" + name;
    app_->add_flag(names, *dst,
                   negatable ? help + " (default " + (*dst ? "on" : "off") + ")" : help)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
        ->group(group_);
  }

 private:
  CLI::App* app_;
  std::string group_ = "Flags";
};

// The node flags: what the exporter reads and where, and what the doctor
// checks. Both commands bind them to the same Flags fields, so they cannot
// drift apart in name, default or meaning.
void AddNodeFlags(FlagTable* t, Flags* f, bool doctor) {
  std::string* runsc_path = &f->runsc_path;
  t->Value("runsc.path", "PATH", *runsc_path,
           doctor ? "the runsc binary to check (PATH is searched when it has no '/')"
                  : "runsc binary for the CLI fallback and version probe",
           [runsc_path](const std::string& v) {
             if (v.empty()) Fail("--runsc.path must not be empty");
             *runsc_path = v;
           });
  t->Value("runsc.root", "DIR", "", "a runsc root to scan (repeatable; \"\" is ignored)",
           [f](const std::string& v) {
             if (!v.empty()) f->runsc_roots.push_back(v);
           });
  t->Value(
      "runsc.root-parent", "DIR", Join(f->runsc_root_parents),
      "every directory under DIR is a runsc root (repeatable; \"\" disables the default)",
      [f](const std::string& v) {
        if (!v.empty()) f->runsc_root_parents.push_back(v);
      },
      [f] { f->runsc_root_parents.clear(); });
  t->String("cri.endpoint", "URL", &f->cri_endpoint,
            doctor ? "containerd's CRI endpoint (\"\" skips the CRI checks)"
                   : "CRI runtime to list pods from (\"\" disables)");
  t->String("path.procfs", "DIR", &f->procfs, "the host's /proc");
  t->String("path.devfs", "DIR", &f->devfs, "the host's /dev (is /dev/kvm there)");
}

void AddExporterFlags(CLI::App* app, Flags* f) {
  FlagTable t(app);
  t.Group("Serving");
  t.String("web.listen-address", "ADDR", &f->listen_address,
           "address to serve HTTP on (host:port; host numeric or localhost)");
  t.String("web.telemetry-path", "PATH", &f->telemetry_path, "path under which metrics are served");
  t.String("web.config.file", "FILE", &f->web_config_file,
           "exporter-toolkit web config (YAML): TLS, client certificates,\n"
           "basic_auth_users (bcrypt), security headers; \"\" = plain HTTP.\n"
           "Certificate and key files are re-read when they change; basic\n"
           "auth covers every path but /healthz");
  const auto one_of = [](const std::string& flag, const std::vector<std::string>& allowed,
                         std::string* dst) {
    return [=](const std::string& v) {
      if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
        Fail("bad " + flag + ": " + v + " (one of " + Join(allowed) + ")");
      }
      *dst = v;
    };
  };
  t.Value("log.level", "LEVEL", f->log_level, "debug, info, warn or error",
          one_of("--log.level", {"debug", "info", "warn", "error"}, &f->log_level));
  t.Value("log.format", "FORMAT", f->log_format, "logfmt or json",
          one_of("--log.format", {"logfmt", "json"}, &f->log_format));

  t.Group("Sandboxes");
  AddNodeFlags(&t, f, false);
  t.String("path.cgroupfs", "DIR", &f->cgroupfs, "the host's cgroup file system");
  t.Bool("runsc.cli-fallback", &f->cli_fallback,
         "use `runsc events -stats` + `runsc usage` when the control\nsocket fails");
  t.Duration("runsc.cli-timeout", &f->cli_timeout, "deadline for one runsc CLI call");
  t.Duration("control.timeout", &f->control_timeout, "deadline for one control-socket call");
  t.Duration("poll.interval", &f->poll_interval,
             "how often sandboxes are read (scrapes never trigger reads)");
  t.Int("poll.concurrency", &f->poll_concurrency, 1, 64, "sandboxes read in parallel");
  t.Bool("collector.memory.full", &f->memory_full,
         "fill every in-sandbox memory category (Usage.Collect Full);\n"
         "off: only Total, Mapped and Unknown");
  t.Bool("collector.host", &f->host,
         "host cost of each sandbox: its processes (smaps_rollup, stat,\n"
         "per-thread status) and cgroup, and the overhead");
  t.Duration("collector.host.pss-max-age", &f->pss_max_age,
             "re-read a process's smaps_rollup (PSS; a walk of all its pages)\n"
             "when this old, or at once when its RSS, a sibling's in its sandbox\n"
             "or the node's number of runsc processes moved its PSS by more\n"
             "than 1/64; 0s: every poll",
             std::chrono::milliseconds(0));

  t.Group(
      "Syscall statistics (gVisor runtime monitoring; opt-in, each traced syscall costs the "
      "sandbox ~15 us with these defaults, BENCHMARKS.md)");
  t.Bool("syscalls.all", &f->syscalls_all, "trace every sandbox");
  t.Value("syscalls.namespaces", "NS,...", "",
          "trace sandboxes of pods in these namespaces (repeatable)\n"
          "(pods opt in or out with annotation gvisor-exporter.io/syscalls:\n"
          "\"true\"/\"false\"; containerd must pass it through:\n"
          "pod_annotations = [\"gvisor-exporter.io/*\"])",
          [f](const std::string& v) {
            for (std::string& ns : SplitList(v)) f->syscalls_namespaces.push_back(std::move(ns));
          });
  t.Bool("syscalls.attach", &f->syscalls_attach,
         "create the sandbox's trace session over its control socket;\noff: only listen mode");
  t.String("syscalls.listen", "PATH", &f->syscalls_listen,
           "also accept sandboxes started with a pod-init config whose\n"
           "remote sink endpoint is PATH (listen mode; default off)");
  t.Bool("syscalls.errors", &f->syscalls_errors,
         "also trace syscall exits: errors by errno, unimplemented\n"
         "(ENOSYS) syscalls (doubles the events)");
  t.Value("syscalls.filter", "NAME,...", "",
          "trace only these syscalls (names or numbers; default all)",
          [f](const std::string& v) { Check(ParseSyscallList(v, &f->syscalls_filter)); });
  t.Value("syscalls.sample", "ON/PERIOD", "off",
          "attach mode: trace ON out of every PERIOD (e.g. 10s/1m), so the\n"
          "workload pays the tracing cost only then; counts go out as\n"
          "*_sampled_total with the traced time (off: exact counts)",
          [f](const std::string& v) { ParseSample(v, f); });
  t.Duration("syscalls.reader-pause", &f->syscalls_reader_pause,
             "pause after reading events, so they are read in batches: 1ms\n"
             "makes a traced syscall ~3x cheaper for the sandbox; only a\n"
             "realtime reader pauses (pausing a normal-class one caused\n"
             "drops on a busy node; BENCHMARKS.md); 0s: read at once",
             std::chrono::milliseconds(0), std::chrono::milliseconds(100));
  t.Int("syscalls.reader-priority", &f->syscalls_reader_priority, 0, 99,
        "SCHED_FIFO priority of the thread reading trace events (needs\n"
        "CAP_SYS_NICE); 0 or refused: nice -10. A normal-class reader fell\n"
        "behind 10 busy sandboxes on 2 cores and they dropped (BENCHMARKS.md)");
  t.Bool("syscalls.force", &f->syscalls_force,
         "replace another consumer's trace session (off: leave it)");
  t.String("syscalls.record-file", "FILE", &f->syscalls_record_file,
           "where the sessions this exporter created are recorded, so a\n"
           "restarted exporter replaces its own and no one else's");
  t.Int("syscalls.max-per-container", &f->syscalls_max_per_container, 1, 512,
        "syscall series per container (then \"other\")");
  t.Int("syscalls.max-errors-per-container", &f->syscalls_max_errors_per_container, 1, 512,
        "(syscall, errno) series per container");

  t.Group("Pods, RuntimeClasses and sandbox policy (containerd's CRI API)");
  t.Duration("cri.timeout", &f->cri_timeout, "deadline for all CRI calls of one poll");
  t.Value("cri.pod-labels", "KEY,...", "",
          "pod labels exposed on gvisor_pod_labels as label_<key>\n(at most 32; default none)",
          [f](const std::string& v) { Check(ParsePodLabels(v, &f->cri_pod_labels)); });
  t.Value(
      "runtime.handlers", "NAME,...", Join(f->runtime_handlers),
      "handlers that run gVisor (repeatable; handlers whose pods are\n"
      "found under a runsc root count as gVisor too)",
      [f](const std::string& v) {
        Check(ParseNames(v, "--runtime.handlers", &f->runtime_handlers));
      },
      [f] { f->runtime_handlers.clear(); });
  std::string classes;
  for (const auto& [handler, cls] : f->runtime_classes) {
    classes += (classes.empty() ? "" : ",") + handler + "=" + cls;
  }
  t.Value(
      "runtime.classes", "HANDLER=CLASS,...", classes, "handler=RuntimeClass pairs (repeatable)",
      [f](const std::string& v) {
        StatusOr<std::map<std::string, std::string>> m = ParseRuntimeClasses(v);
        Check(m.status());
        for (const auto& [handler, cls] : *m) {
          if (!f->runtime_classes.emplace(handler, cls).second) {
            Fail("--runtime.classes: handler " + handler + " given twice");
          }
        }
      },
      [f] { f->runtime_classes.clear(); });
  t.Value("policy.sandboxed-namespaces", "NS,...", "",
          "namespaces whose pods must run under gVisor (repeatable);\n"
          "other pods there show up in gvisor_policy_unsandboxed_pod",
          [f](const std::string& v) {
            Check(ParseNames(v, "--policy.sandboxed-namespaces", &f->policy_sandboxed_namespaces));
          });

  t.Group("RuntimeClasses from the Kubernetes API (node.k8s.io/v1; needs list on runtimeclasses)");
  t.Value("kubernetes.api", "off|in-cluster|URL", "off",
          "off, in-cluster (https://$KUBERNETES_SERVICE_HOST:\n"
          "$KUBERNETES_SERVICE_PORT) or https://host:port; when the list is\n"
          "available it replaces --runtime.classes and gives each class's\n"
          "declared overhead.podFixed",
          [f](const std::string& v) {
            // URLs are checked here for shape; in-cluster resolves at start,
            // so parsing does not depend on the environment.
            if (v == "off" || v.empty()) {
              f->kubernetes_api.clear();
            } else if (v == "in-cluster") {
              f->kubernetes_api = v;
            } else {
              StatusOr<std::string> server = ResolveApiServer(v);
              Check(server.status());
              f->kubernetes_api = *server;
            }
          });
  t.String("kubernetes.token-file", "FILE", &f->kubernetes_token_file,
           "bearer token, re-read at every request (\"\" = none)");
  t.String("kubernetes.ca-file", "FILE", &f->kubernetes_ca_file,
           "CA the API server's certificate must chain to (\"\" = system store)");
  t.Duration("kubernetes.refresh", &f->kubernetes_refresh,
             "how often RuntimeClasses are listed (failures retry sooner)");
  t.Duration("kubernetes.timeout", &f->kubernetes_timeout,
             "deadline for one request, connect included");

  t.Group("Other");
  t.Bool("print-metrics-doc", &f->print_metrics_doc,
         "print the metric reference (METRICS.md) and exit", false);
  t.Bool("version", &f->version, "print the version and exit", false);
}

void AddDoctorFlags(CLI::App* doctor, Flags* f, DoctorOptions* d) {
  FlagTable t(doctor);
  t.String("containerd.config", "FILE", &d->containerd_config,
           "containerd's config (\"\" skips it; imports are followed)");
  AddNodeFlags(&t, f, true);
  t.Value("output", "text|json", d->output, "report format", [d](const std::string& v) {
    if (v != "text" && v != "json") Fail("--output must be text or json, not \"" + v + "\"");
    d->output = v;
  });
  // Bounded: a doctor run must end even when every call hangs.
  t.Duration("timeout", &d->timeout, "deadline of each runsc, control-socket and CRI call",
             std::chrono::milliseconds(1), std::chrono::minutes(10));
}

// The exporter's command line. `f` and `d` receive the values (and give the
// defaults shown in the help), so they must outlive parsing.
std::unique_ptr<CLI::App> MakeApp(Flags* f, DoctorOptions* d) {
  auto app = std::make_unique<CLI::App>(
      "Per-node Prometheus exporter for gVisor (runsc) sandboxes.", "gvisor-exporter");
  app->get_formatter()->column_width(36);
  app->footer(
      "Durations are Go's: 500ms, 30s, 1m30s, 2h. List flags take comma-separated values\n"
      "and may be repeated.");
  AddExporterFlags(app.get(), f);
  CLI::App* doctor = app->add_subcommand(
      "doctor",
      "Check this node's gVisor setup (runsc, containerd config and handlers, runsc roots,\n"
      "sandboxes, control sockets, /dev/kvm, CRI): one OK/WARN/FAIL line per check with a fix.");
  doctor->footer("Exit code: 0 all OK or WARN, 1 any FAIL, 2 usage error. Reads only.");
  AddDoctorFlags(doctor, f, d);
  return app;
}

std::string UsageError(const CLI::App& doctor, const std::string& message) {
  return (doctor.parsed() ? "doctor: " : "") + message;
}

}  // namespace

StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags f;
  DoctorOptions d;
  std::unique_ptr<CLI::App> app = MakeApp(&f, &d);
  CLI::App* doctor = app->get_subcommand("doctor");
  // CLI11 (2.1) reads `--name=` as a value still to come, so `--cri.endpoint=`
  // would eat the next argument; as `--name ""` it is the empty value that
  // disables a feature, as it was.
  std::vector<std::string> argv;
  for (const std::string& a : args) {
    const size_t eq = a.find('=');
    if (a.rfind("--", 0) == 0 && eq != std::string::npos && eq + 1 == a.size()) {
      const std::string name = a.substr(0, eq);
      const CLI::Option* o = app->get_option_no_throw(name);
      if (o == nullptr) o = doctor->get_option_no_throw(name);
      if (o != nullptr && o->get_items_expected_min() > 0) {
        argv.push_back(name);
        argv.emplace_back();
        continue;
      }
    }
    argv.push_back(a);
  }
  std::reverse(argv.begin(), argv.end());  // CLI11 takes them last first
  try {
    app->parse(std::move(argv));
  } catch (const CLI::CallForHelp&) {
    f.help = true;
    if (doctor->parsed()) f.doctor = d;
    return f;
  } catch (const CLI::ParseError& e) {
    return InvalidError(UsageError(*doctor, e.what()));
  }
  if (doctor->parsed()) {
    // Exporter flags before `doctor` would be parsed and then ignored.
    for (const CLI::Option* o : app->get_options()) {
      if (o->count() > 0) {
        return InvalidError("doctor: " + o->get_name() +
                            " is not a doctor flag (doctor flags follow the word doctor)");
      }
    }
    d.runsc_path = f.runsc_path;
    d.roots = f.runsc_roots;
    d.root_parents = f.runsc_root_parents;
    d.cri_endpoint = f.cri_endpoint;
    d.devfs = f.devfs;
    d.procfs = f.procfs;
    f.doctor = std::move(d);
  }
  return f;
}

std::string FlagsUsage(bool doctor) {
  Flags f;
  DoctorOptions d;
  std::unique_ptr<CLI::App> app = MakeApp(&f, &d);
  return doctor ? app->get_subcommand("doctor")->help() : app->help();
}

std::set<std::string> FlagNames(bool doctor) {
  Flags f;
  DoctorOptions d;
  std::unique_ptr<CLI::App> app = MakeApp(&f, &d);
  CLI::App* cmd = doctor ? app->get_subcommand("doctor") : app.get();
  std::set<std::string> out;
  for (const CLI::Option* o : cmd->get_options()) {
    for (const std::string& n : o->get_lnames()) out.insert(n);
    for (const std::string& n : o->get_fnames()) out.insert(n);
  }
  return out;
}

}  // namespace gvisor_exporter
