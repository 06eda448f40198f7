// Command-line flags in the Prometheus exporter style (`--web.listen-address`,
// `--log.level`, ...), for the exporter and its `doctor` subcommand: one
// CLI11 table (flags.cc) gives names, defaults (the initializers below),
// validation and the --help text. Parsing is strict: an unknown flag or a bad
// value is an error with a message, never silently ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "exporter/common/duration.h"
#include "exporter/common/status.h"
#include "exporter/doctor/doctor.h"
#include "exporter/sources/cri/cri_client.h"

namespace gvisor_exporter {

struct Flags {
  std::string listen_address = ":9787";
  std::string telemetry_path = "/metrics";
  std::string web_config_file;           // exporter-toolkit web config; "" = plain HTTP
  std::string log_level = "info";        // debug|info|warn|error
  std::string log_format = "logfmt";     // logfmt|json
  std::vector<std::string> runsc_roots;  // explicit roots
  std::vector<std::string> runsc_root_parents = {"/run/containerd/runsc"};
  std::string runsc_path = "runsc";
  bool cli_fallback = true;
  std::chrono::milliseconds cli_timeout{5000};
  std::chrono::milliseconds control_timeout{1000};
  std::chrono::milliseconds poll_interval{5000};
  int poll_concurrency = 4;
  bool memory_full = true;
  bool host = true;                               // host processes + cgroup + overhead
  std::chrono::milliseconds pss_max_age{300000};  // see ProcReaderOptions::pss_max_age
  std::string procfs = "/proc";
  std::string cgroupfs = "/sys/fs/cgroup";
  std::string devfs = "/dev";
  // Syscall statistics (runtime monitoring trace sessions).
  bool syscalls_all = false;
  std::vector<std::string> syscalls_namespaces;
  bool syscalls_attach = true;
  std::string syscalls_listen;  // listen-mode socket path; "" = off
  bool syscalls_errors = true;
  std::vector<uint64_t> syscalls_filter;  // syscall numbers; empty = all
  // --syscalls.sample=ON/PERIOD: trace ON out of every PERIOD; 0/0 = always.
  std::chrono::milliseconds syscalls_sample_on{0}, syscalls_sample_period{0};
  // --syscalls.reader-pause: TraceReader::Options::coalesce (0 = off).
  std::chrono::milliseconds syscalls_reader_pause{1};
  // --syscalls.reader-priority: TraceReader::Options::realtime_priority.
  int syscalls_reader_priority = 1;
  bool syscalls_force = false;
  std::string syscalls_record_file = "/run/gvisor-exporter/trace-sessions.json";
  int syscalls_max_per_container = 128;
  int syscalls_max_errors_per_container = 64;
  // Pods, RuntimeClasses and policy from the CRI runtime (containerd).
  std::string cri_endpoint = kDefaultCriEndpoint;  // "" = off
  std::chrono::milliseconds cri_timeout{2000};
  std::vector<std::string> cri_pod_labels;                // label keys exposed as label_<key>
  std::vector<std::string> runtime_handlers = {"runsc"};  // handlers that are gVisor
  std::map<std::string, std::string> runtime_classes = {{"runsc", "gvisor"}};  // handler -> class
  std::vector<std::string> policy_sandboxed_namespaces;
  // RuntimeClasses from the Kubernetes API: "" (off), "in-cluster" or an https:// URL.
  std::string kubernetes_api;
  std::string kubernetes_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string kubernetes_ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::chrono::milliseconds kubernetes_refresh{300000};
  std::chrono::milliseconds kubernetes_timeout{5000};
  bool print_metrics_doc = false;
  bool version = false;
  bool help = false;  // --help / -h, of the exporter or (with `doctor` set) of the doctor
  // `gvisor-exporter doctor ...` was given: its own flags, and the node flags
  // above that it shares (--runsc.path, --runsc.root, --runsc.root-parent,
  // --cri.endpoint, --path.devfs, --path.procfs) copied in.
  std::optional<DoctorOptions> doctor;
};

// Parses argv (argv[0] skipped). Accepts `--flag=value` and `--flag value`;
// booleans as `--flag`, `--no-flag`, `--flag=true|false`. The doctor's flags
// follow the word `doctor`, which must come first. kInvalid with the message
// for the user on a usage error.
StatusOr<Flags> ParseFlags(const std::vector<std::string>& args);

// The --help text of the exporter, or of its doctor subcommand.
std::string FlagsUsage(bool doctor = false);

// Every long flag name of the exporter or of the doctor ("web.listen-address",
// "no-collector.host", ...; "help" included): what README.md must list.
std::set<std::string> FlagNames(bool doctor);

}  // namespace gvisor_exporter
