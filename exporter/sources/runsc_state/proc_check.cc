#include "exporter/sources/runsc_state/proc_check.h"

#include <fcntl.h>

#include <cerrno>
#include <vector>

#include "exporter/common/file_util.h"

namespace gvisor_exporter {

namespace {

// Sentry command lines are ~300 bytes; anything near this bound is not ours.
constexpr size_t kMaxCmdlineBytes = size_t{64} * 1024;
constexpr size_t kMaxStatBytes = 4096;
constexpr int kStartTimeField = 22;

std::vector<std::string_view> SplitArgs(std::string_view cmdline) {
  std::vector<std::string_view> args;
  if (!cmdline.empty() && cmdline.back() == '\0') cmdline.remove_suffix(1);
  if (cmdline.empty()) return args;  // zombie or kernel thread
  size_t start = 0;
  while (true) {
    const size_t nul = cmdline.find('\0', start);
    if (nul == std::string_view::npos) {
      args.push_back(cmdline.substr(start));
      return args;
    }
    args.push_back(cmdline.substr(start, nul - start));
    start = nul + 1;
  }
}

std::string ProcPath(const std::string& proc_root, int64_t pid, const char* file) {
  return proc_root + "/" + std::to_string(pid) + "/" + file;
}

}  // namespace

bool IsSentryCmdline(std::string_view cmdline, std::string_view sandbox_id) {
  const std::vector<std::string_view> args = SplitArgs(cmdline);
  if (args.size() < 2 || sandbox_id.empty()) return false;
  return args.front().find("runsc-sandbox") != std::string_view::npos && args.back() == sandbox_id;
}

bool IsGoferCmdline(std::string_view cmdline) {
  const std::vector<std::string_view> args = SplitArgs(cmdline);
  return !args.empty() && args.front().find("runsc-gofer") != std::string_view::npos;
}

bool ParseStatStartTime(std::string_view stat, uint64_t* start_time) {
  const size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos) return false;
  std::string_view rest = stat.substr(paren + 1);
  // After ") " come fields 3, 4, ...: skip to field kStartTimeField.
  int field = 2;
  size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    if (pos >= rest.size()) break;
    size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    if (++field == kStartTimeField) return ParseUint64(rest.substr(pos, end - pos), start_time);
    pos = end;
  }
  return false;
}

namespace {

StatusOr<std::string> ReadProcFile(const std::string& path, size_t max_bytes, KeptFiles* kept) {
  if (kept == nullptr) return ReadFileBounded(path, max_bytes);
  return kept->Read(path, KeptFiles::OpenNoFollow(path), max_bytes);
}

}  // namespace

StatusOr<uint64_t> CheckSentry(const std::string& proc_root, int64_t pid,
                               std::string_view sandbox_id, KeptFiles* kept, PidWatch* watch) {
  if (pid <= 0) return NotFoundError("no sandbox pid in state file");
  if (watch != nullptr) {
    const std::string key = "sentry " + std::string(sandbox_id) + " " + std::to_string(pid);
    if (std::optional<uint64_t> start_time = watch->Alive(key)) return *start_time;
    UniqueFd pidfd = PidWatch::OpenPidfd(pid);  // before the check (pid_watch.h)
    StatusOr<uint64_t> checked = CheckSentry(proc_root, pid, sandbox_id);
    if (checked.ok()) watch->Watch(key, std::move(pidfd), *checked);
    return checked;
  }
  const std::string cmdline_path = ProcPath(proc_root, pid, "cmdline");
  auto not_the_sentry = [&] {
    return NotFoundError("pid " + std::to_string(pid) + " is not the sentry of sandbox " +
                         std::string(sandbox_id) + " (stale state file: exited or pid reused)");
  };
  if (kept != nullptr) {
    // A cmdline descriptor kept since an earlier check still reads: the same
    // process, whose start time that check tagged it with. One pread.
    std::optional<uint64_t> start_time;
    StatusOr<std::string> cmdline = kept->Read(cmdline_path, KeptFiles::OpenNoFollow(cmdline_path),
                                               kMaxCmdlineBytes, Records::One(), &start_time);
    if (cmdline.ok() && start_time) {
      if (!IsSentryCmdline(*cmdline, sandbox_id)) return not_the_sentry();
      return *start_time;
    }
  }
  StatusOr<std::string> stat = ReadFileBounded(ProcPath(proc_root, pid, "stat"), kMaxStatBytes);
  if (!stat.ok() && stat.status().reason() == Reason::kNotFound) {
    return NotFoundError("sentry pid " + std::to_string(pid) + " of sandbox " +
                         std::string(sandbox_id) + " is gone (stale state file)");
  }
  if (!stat.ok()) return stat.status();
  StatusOr<std::string> cmdline = ReadProcFile(cmdline_path, kMaxCmdlineBytes, kept);
  if (!cmdline.ok() && cmdline.status().reason() != Reason::kTooLarge) return cmdline.status();
  if (!cmdline.ok() || !IsSentryCmdline(*cmdline, sandbox_id)) return not_the_sentry();
  uint64_t start_time = 0;
  if (!ParseStatStartTime(*stat, &start_time)) {
    return ParseError("unparsable " + ProcPath(proc_root, pid, "stat"));
  }
  // The cmdline descriptor was opened after the stat read: if the pid had
  // been reused in between, the cmdline would not have matched.
  if (kept != nullptr) kept->SetTag(cmdline_path, start_time);
  return start_time;
}

bool IsGoferAlive(const std::string& proc_root, int64_t pid, KeptFiles* kept, PidWatch* watch) {
  if (pid <= 0) return false;
  if (watch != nullptr) {
    const std::string key = "gofer " + std::to_string(pid);
    if (watch->Alive(key)) return true;
    UniqueFd pidfd = PidWatch::OpenPidfd(pid);
    const bool alive = IsGoferAlive(proc_root, pid);
    if (alive) watch->Watch(key, std::move(pidfd), 0);
    return alive;
  }
  StatusOr<std::string> cmdline =
      ReadProcFile(ProcPath(proc_root, pid, "cmdline"), kMaxCmdlineBytes, kept);
  return cmdline.ok() && IsGoferCmdline(*cmdline);
}

}  // namespace gvisor_exporter
