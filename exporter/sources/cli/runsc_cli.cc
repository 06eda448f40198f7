#include "exporter/sources/cli/runsc_cli.h"

#include <utility>

#include "exporter/common/ids.h"
#include "exporter/common/subprocess.h"
#include "exporter/common/text.h"
#include "exporter/sources/control/usage_parser.h"

namespace gvisor_exporter {
namespace {

// runsc's stderr ends up in error messages and logs: one bounded line.
constexpr size_t kMaxStderrInMessage = 256;
constexpr size_t kMaxVersionLength = 64;

std::string_view FirstLine(std::string_view s) {
  const size_t nl = s.find('\n');
  return nl == std::string_view::npos ? s : s.substr(0, nl);
}

std::string_view Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

Status FailureStatus(const std::string& what, const CommandResult& r) {
  // Printable ASCII only, so a hostile or garbled stderr cannot forge log
  // lines; cut without a marker (the message says where it came from).
  std::string detail =
      PrintableAscii(Trim(FirstLine(Trim(r.stderr_data))).substr(0, kMaxStderrInMessage));
  if (detail.empty()) {
    detail = r.term_signal != 0 ? "killed by signal " + std::to_string(r.term_signal)
                                : "exit code " + std::to_string(r.exit_code);
  }
  // "loading container: file does not exist": the sandbox is gone.
  if (detail.find("does not exist") != std::string::npos)
    return NotFoundError(what + ": " + detail);
  return RemoteError(what + ": " + detail);
}

}  // namespace

RunscCli::RunscCli(RunscCliOptions options) : options_(std::move(options)) {}

StatusOr<std::string> RunscCli::Run(const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(args.size() + 1);
  argv.push_back(options_.runsc_path);
  argv.insert(argv.end(), args.begin(), args.end());
  // "runsc <subcommand>" names the call in errors (args[2] follows --root R).
  const std::string what = "runsc " + (args.size() > 2 ? args[2] : args.front());
  StatusOr<CommandResult> r = RunCommand(argv, options_.timeout, options_.max_output_bytes);
  if (!r.ok()) return r.status().WithContext(what);
  if (!r->success()) return FailureStatus(what, *r);
  return std::move(r->stdout_data);
}

StatusOr<SandboxUsage> RunscCli::Collect(const SandboxInfo& sb, bool full_memory) {
  // Already validated upstream; checked again because they become argv: an
  // id starting with '-' would be read by runsc as a flag.
  if (!IsValidId(sb.id) || sb.id.front() == '-') return InvalidError("invalid sandbox id");
  if (sb.root.empty() || sb.root.front() != '/') return InvalidError("runsc root must be absolute");

  StatusOr<std::string> events_out = Run({"--root", sb.root, "events", "-stats", sb.id});
  if (!events_out.ok()) return events_out.status();
  StatusOr<std::vector<EventStats>> events = ParseEventsStatsOutput(*events_out);
  if (!events.ok()) return events.status().WithContext("runsc events");
  const EventStats* event = nullptr;
  for (const EventStats& e : *events) {
    if (e.id == sb.id) event = &e;
  }
  if (event == nullptr) return ParseError("runsc events: no event for " + sb.id);

  std::vector<std::string> usage_args = {"--root", sb.root, "usage"};
  if (full_memory) usage_args.push_back("-full");
  usage_args.push_back(sb.id);
  StatusOr<std::string> usage_out = Run(usage_args);
  if (!usage_out.ok()) return usage_out.status();
  StatusOr<SandboxMemory> memory = ParseUsageOutput(*usage_out, full_memory);
  if (!memory.ok()) return memory.status().WithContext("runsc usage");

  SandboxUsage out;
  out.path = StatsPath::kCli;
  out.memory = *memory;
  out.pids = event->pids;
  out.network = event->network;
  // No container_cpu_ns on this path: see the header.
  return out;
}

StatusOr<std::string> RunscCli::Version() {
  StatusOr<std::string> out = Run({"--version"});
  if (!out.ok()) return out.status();
  return ParseRunscVersion(*out);
}

StatusOr<std::string> ParseRunscVersion(std::string_view output) {
  constexpr std::string_view kPrefix = "runsc version ";
  std::string_view line = Trim(FirstLine(output));
  if (line.substr(0, kPrefix.size()) != kPrefix) return ParseError("not a runsc version line");
  std::string_view version = Trim(line.substr(kPrefix.size()));
  if (version.empty() || version.size() > kMaxVersionLength) {
    return ParseError("bad runsc version length");
  }
  for (char c : version) {
    if (c <= 0x20 || c >= 0x7f) return ParseError("bad character in runsc version");
  }
  return std::string(version);
}

}  // namespace gvisor_exporter
