#include "exporter/sources/host/proc_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <utility>

#include "exporter/common/file_util.h"
#include "exporter/common/pid_watch.h"
#include "exporter/sources/host/cmdline.h"
#include "exporter/sources/host/host_io.h"

namespace gvisor_exporter {

namespace {

// Generous bounds: real files are 150-1500 bytes.
constexpr size_t kMaxStatBytes = 4096;
constexpr size_t kMaxStatusBytes = 16384;
constexpr size_t kMaxSmapsRollupBytes = 16384;
constexpr size_t kMaxChildrenBytes = 65536;
constexpr size_t kMaxCmdlineBytes = size_t{128} * 1024;

std::string PidDir(const std::string& proc_root, int64_t pid) {
  return proc_root + "/" + std::to_string(pid);
}

bool IsDead(char state) { return state == 'Z' || state == 'X' || state == 'x'; }

}  // namespace

ProcReader::ProcReader(std::string proc_root)
    : ProcReader(ProcReaderOptions{.proc_root = std::move(proc_root)}) {}

ProcReader::ProcReader(ProcReaderOptions options) : options_(std::move(options)) {
  const int64_t hz = ::sysconf(_SC_CLK_TCK);
  ticks_per_second_ = hz > 0 ? static_cast<double>(hz) : 100.0;
  const int64_t page = ::sysconf(_SC_PAGESIZE);
  page_size_ = page > 0 ? static_cast<uint64_t>(page) : 4096;
  if (options_.pss_max_age.count() > 0) {
    pss_cache_ = std::make_shared<PssCache>(options_.pss_max_age, options_.pss_rss_tolerance);
  }
  sharers_ = std::make_shared<Sharers>();
  // One stat per process; a quarter of the fd limit (raised at start-up).
  kept_ = std::make_shared<KeptFiles>(KeptFiles::Budget(1.0 / 4, 65536));
  // taskstats takes pids of our pid namespace; the state files' pids are
  // those of proc_root.
  if (options_.sum_thread_ctxt_switches && options_.taskstats &&
      SameProcNumbering(options_.proc_root)) {
    StatusOr<std::unique_ptr<TaskstatsClient>> client = TaskstatsClient::Open();
    if (client.ok()) {
      taskstats_ = std::move(client).value();
      taskstats_refused_ = std::make_shared<std::atomic<bool>>(false);
    }
  }
}

PssCache::Moment ProcReader::PssMoment(const ProcStat& st) const {
  return PssCache::Moment{.start_time = st.starttime,
                          .stat_rss_bytes = st.rss_pages.value_or(0) * page_size_,
                          .sharers = sharers_->last.load(std::memory_order_relaxed),
                          .at = PssCache::Clock::now()};
}

std::optional<SmapsRollup> ProcReader::CachedRollup(int64_t pid, const ProcStat& st) const {
  if (pss_cache_ == nullptr || !st.rss_pages.has_value()) return std::nullopt;
  std::optional<SmapsRollup> hit = pss_cache_->Lookup(pid, PssMoment(st));
  if (hit) hit->rss = st.rss_pages.value_or(0) * page_size_;  // the current RSS, the cached PSS
  return hit;
}

StatusOr<SmapsRollup> ProcReader::ReadRollup(const DirFd& proc_dir_fd, int64_t pid,
                                             const ProcStat& st) const {
  const PssCache::Moment moment = PssMoment(st);
  StatusOr<int> dir = proc_dir_fd();
  if (!dir.ok()) return dir.status();
  StatusOr<std::string> text = host_io::ReadAt(*dir, "smaps_rollup", kMaxSmapsRollupBytes);
  if (!text.ok()) return text.status();
  // A process whose mm is gone (exiting) reads as an empty file.
  if (text->empty()) return NotFoundError("process " + std::to_string(pid) + " exiting");
  StatusOr<SmapsRollup> rollup = ParseSmapsRollup(*text);
  if (rollup.ok() && pss_cache_ != nullptr && st.rss_pages.has_value()) {
    pss_cache_->Store(pid, moment, *rollup);
  }
  return rollup;
}

StatusOr<ProcStat> ProcReader::ReadStat(int64_t pid) const {
  StatusOr<std::string> text =
      ReadFileBounded(PidDir(options_.proc_root, pid) + "/stat", kMaxStatBytes, true);
  if (!text.ok()) return text.status();
  StatusOr<ProcStat> st = ParseProcStat(*text);
  if (st.ok() && IsDead(st->state)) return NotFoundError("process exited");
  return st;
}

StatusOr<uint64_t> ProcReader::SumThreadStatusFiles(const DirFd& proc_dir_fd,
                                                    uint64_t* nonvoluntary) const {
  StatusOr<int> dir = proc_dir_fd();
  if (!dir.ok()) return dir.status();
  std::vector<int64_t> tids = {0};  // 0: the leader's own status file
  if (options_.sum_thread_ctxt_switches) {
    StatusOr<std::vector<int64_t>> listed =
        host_io::ListNumericEntries(*dir, "task", options_.max_threads);
    if (!listed.ok()) return listed.status();
    tids = std::move(listed).value();
  }
  uint64_t vol = 0, nonvol = 0;
  size_t read = 0;
  for (int64_t tid : tids) {
    const std::string rel = tid == 0 ? "status" : "task/" + std::to_string(tid) + "/status";
    StatusOr<std::string> text = host_io::ReadAt(*dir, rel, kMaxStatusBytes);
    if (!text.ok() && text.status().reason() == Reason::kNotFound) continue;  // thread exited
    if (!text.ok()) return text.status();
    StatusOr<ProcStatus> st = ParseProcStatus(*text);
    if (!st.ok()) return st.status();
    if (!st->voluntary_ctxt_switches || !st->nonvoluntary_ctxt_switches) {
      return ParseError("status: no ctxt_switches in " + rel);
    }
    vol += *st->voluntary_ctxt_switches;
    nonvol += *st->nonvoluntary_ctxt_switches;
    ++read;
  }
  if (read == 0) return NotFoundError("no live threads");
  *nonvoluntary = nonvol;
  return vol;
}

StatusOr<ProcStat> ProcReader::OpenWithStat(int64_t pid, UniqueFd* dir) const {
  StatusOr<UniqueFd> opened = OpenDir(PidDir(options_.proc_root, pid));
  if (!opened.ok()) return opened.status();
  StatusOr<std::string> text = host_io::ReadAt(opened->get(), "stat", kMaxStatBytes);
  if (!text.ok()) return text.status();
  *dir = std::move(opened).value();
  return ParseProcStat(*text);
}

ProcReader::DirFd ProcReader::VerifiedDir(int64_t pid, uint64_t start_time,
                                          std::shared_ptr<UniqueFd> holder) const {
  // Opened only when needed (smaps_rollup not cached, or no taskstats); the
  // process behind the new fd must be the one whose stat was read, and if the
  // pid is reused later, reads through it fail (ESRCH) rather than mix two
  // processes.
  return [this, pid, start_time, holder = std::move(holder)]() -> StatusOr<int> {
    if (!holder->valid()) {
      UniqueFd opened;
      StatusOr<ProcStat> st = OpenWithStat(pid, &opened);
      if (!st.ok()) return st.status();
      if (st->starttime != start_time) {
        return NotFoundError("pid " + std::to_string(pid) + " was reused");
      }
      *holder = std::move(opened);
    }
    return holder->get();
  };
}

StatusOr<ProcStat> ProcReader::ReadKeptStat(int64_t pid, uint64_t expected_start_time) const {
  if (pid <= 0) return InvalidError("bad pid " + std::to_string(pid));
  // stat through a descriptor kept open between polls (kept_files.h): once
  // the process is gone it fails (ESRCH) rather than describe a new process
  // that reuses the pid; a fresh open is checked by the start time.
  const std::string stat_path = PidDir(options_.proc_root, pid) + "/stat";
  StatusOr<std::string> stat_text =
      kept_->Read(stat_path, KeptFiles::OpenNoFollow(stat_path), kMaxStatBytes);
  if (!stat_text.ok()) return stat_text.status();
  StatusOr<ProcStat> st = ParseProcStat(*stat_text);
  if (!st.ok()) return st.status();
  if (IsDead(st->state)) {
    kept_->Forget(stat_path);
    return NotFoundError("process " + std::to_string(pid) + " exited");
  }
  if (expected_start_time != 0 && st->starttime != expected_start_time) {
    kept_->Forget(stat_path);
    return NotFoundError("pid " + std::to_string(pid) + " was reused");
  }
  return st;
}

StatusOr<HostProcess> ProcReader::Complete(int64_t pid, ProcessRole role, const ProcStat& st,
                                           std::optional<SmapsRollup> cached,
                                           bool defer_switches) const {
  const DirFd dir_fd = VerifiedDir(pid, st.starttime, std::make_shared<UniqueFd>());
  StatusOr<SmapsRollup> smaps =
      cached ? StatusOr<SmapsRollup>(*cached) : ReadRollup(dir_fd, pid, st);
  if (!smaps.ok()) return smaps.status();

  HostProcess p;
  p.pid = pid;
  p.role = role;
  p.rss_bytes = smaps->rss;
  p.pss_bytes = smaps->pss;
  p.pss_anon_bytes = smaps->pss_anon.value_or(0);
  p.pss_file_bytes = smaps->pss_file.value_or(0);
  p.pss_shmem_bytes = smaps->pss_shmem.value_or(0);
  p.cpu_user_seconds = static_cast<double>(st.utime) / ticks_per_second_;
  p.cpu_system_seconds = static_cast<double>(st.stime) / ticks_per_second_;
  p.threads = st.num_threads;
  p.minor_faults = st.minflt;
  p.major_faults = st.majflt;
  if (defer_switches) return p;  // the caller asks taskstats, for many processes at once
  uint64_t nonvol = 0;
  StatusOr<uint64_t> vol = SumThreadStatusFiles(dir_fd, &nonvol);
  if (!vol.ok()) return vol.status();
  p.voluntary_ctxt_switches = *vol;
  p.nonvoluntary_ctxt_switches = nonvol;
  return p;
}

StatusOr<HostProcess> ProcReader::Read(int64_t pid, ProcessRole role,
                                       uint64_t expected_start_time) const {
  std::vector<StatusOr<HostProcess>> out =
      ReadMany({ProcessRef{pid, role, "", expected_start_time}});
  return std::move(out.front());
}

std::vector<StatusOr<HostProcess>> ProcReader::ReadMany(const std::vector<ProcessRef>& refs) const {
  const bool batch = taskstats_ != nullptr && options_.sum_thread_ctxt_switches &&
                     !taskstats_refused_->load(std::memory_order_relaxed);
  // The processes of one call (one sandbox) share memory: if one rollup must
  // be re-read, all are (pss_cache.h).
  std::vector<StatusOr<ProcStat>> stats;
  std::vector<std::optional<SmapsRollup>> cached;
  stats.reserve(refs.size());
  cached.reserve(refs.size());
  bool all_cached = true;
  for (const ProcessRef& ref : refs) {
    stats.push_back(ReadKeptStat(ref.pid, ref.start_time));
    cached.push_back(stats.back().ok() ? CachedRollup(ref.pid, *stats.back()) : std::nullopt);
    all_cached = all_cached && (!stats.back().ok() || cached.back().has_value());
  }
  std::vector<StatusOr<HostProcess>> out;
  out.reserve(refs.size());
  std::vector<size_t> pending;  // indexes into out
  std::vector<int64_t> tgids;
  std::vector<uint64_t> starts;
  uint64_t sharers = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    const ProcessRef& ref = refs[i];
    if (!stats[i].ok()) {
      out.push_back(stats[i].status());
      continue;
    }
    out.push_back(
        Complete(ref.pid, ref.role, *stats[i], all_cached ? cached[i] : std::nullopt, batch));
    if (!out.back().ok()) continue;
    if (ref.role == ProcessRole::kSentry || ref.role == ProcessRole::kGofer) ++sharers;
    if (batch) {
      pending.push_back(out.size() - 1);
      tgids.push_back(ref.pid);
      starts.push_back(stats[i]->starttime);
    }
  }
  sharers_->counting.fetch_add(sharers, std::memory_order_relaxed);
  if (pending.empty()) return out;
  std::vector<StatusOr<TaskContextSwitches>> sw = taskstats_->QueryMany(tgids);
  for (size_t k = 0; k < pending.size(); ++k) {
    StatusOr<HostProcess>& p = out[pending[k]];
    if (sw[k].ok()) {
      p->voluntary_ctxt_switches = sw[k]->voluntary;
      p->nonvoluntary_ctxt_switches = sw[k]->nonvoluntary;
      continue;
    }
    if (sw[k].status().reason() == Reason::kNotFound) {
      p = sw[k].status();
      continue;
    }
    // Refused (no CAP_NET_ADMIN) or broken: /proc, and from now on.
    if (sw[k].status().reason() == Reason::kPermission) taskstats_refused_->store(true);
    uint64_t nonvol = 0;
    StatusOr<uint64_t> vol = SumThreadStatusFiles(
        VerifiedDir(tgids[k], starts[k], std::make_shared<UniqueFd>()), &nonvol);
    if (!vol.ok()) {
      p = vol.status();
      continue;
    }
    p->voluntary_ctxt_switches = *vol;
    p->nonvoluntary_ctxt_switches = nonvol;
  }
  return out;
}

StatusOr<std::vector<std::string>> ProcReader::ReadCmdline(int64_t pid,
                                                           uint64_t expected_start_time) const {
  uint64_t start = 0;
  return ReadCmdlineAt(pid, expected_start_time, &start);
}

StatusOr<std::vector<std::string>> ProcReader::ReadCmdlineAt(int64_t pid,
                                                             uint64_t expected_start_time,
                                                             uint64_t* start_time) const {
  if (pid <= 0) return InvalidError("bad pid " + std::to_string(pid));
  // stat and cmdline through one directory fd: both describe the same process.
  UniqueFd dir;
  StatusOr<ProcStat> st = OpenWithStat(pid, &dir);
  if (!st.ok()) return st.status();
  if (IsDead(st->state) || (expected_start_time != 0 && st->starttime != expected_start_time)) {
    return NotFoundError("process " + std::to_string(pid) + " is gone");
  }
  *start_time = st->starttime;
  StatusOr<std::string> raw = host_io::ReadAt(dir.get(), "cmdline", kMaxCmdlineBytes);
  if (!raw.ok()) return raw.status();
  return SplitCmdline(*raw);
}

bool ProcReader::HasSubcommand(int64_t pid, std::string_view subcommand,
                               uint64_t* start_time) const {
  StatusOr<std::vector<std::string>> argv = ReadCmdlineAt(pid, 0, start_time);
  if (!argv.ok()) return false;
  size_t i = SubcommandIndex(*argv);
  return i < argv->size() && (*argv)[i] == subcommand;
}

std::optional<ProcessRole> ProcReader::ClassifyDescendant(int64_t pid, uint64_t* start_time) const {
  StatusOr<std::vector<std::string>> argv = ReadCmdlineAt(pid, 0, start_time);
  if (!argv.ok()) {
    // Gone: not part of the sandbox any more. Otherwise (e.g. permission)
    // still count it: it is in the sandbox's process tree.
    if (argv.status().reason() == Reason::kNotFound) return std::nullopt;
    return ProcessRole::kStub;
  }
  return argv->empty() ? ProcessRole::kStub : ProcessRole::kOther;
}

std::vector<int64_t> ProcReader::ChildrenOf(int64_t pid) const {
  std::vector<int64_t> out;
  StatusOr<UniqueFd> dir = OpenDir(PidDir(options_.proc_root, pid));
  if (!dir.ok()) return out;
  StatusOr<std::vector<int64_t>> tids =
      host_io::ListNumericEntries(dir->get(), "task", options_.max_threads);
  if (!tids.ok()) return out;
  for (int64_t tid : *tids) {
    StatusOr<std::string> text =
        host_io::ReadAt(dir->get(), "task/" + std::to_string(tid) + "/children", kMaxChildrenBytes);
    if (!text.ok()) continue;  // thread exited, or a kernel without CONFIG_PROC_CHILDREN
    for (int64_t child : host_io::ParsePidList(*text)) out.push_back(child);
  }
  return out;
}

void ProcReader::AddDescendants(int64_t sentry, std::vector<ProcessRef>* out,
                                std::unordered_set<int64_t>* seen) const {
  std::deque<std::pair<int64_t, int>> queue = {{sentry, 0}};
  size_t added = 0;
  while (!queue.empty() && added < options_.max_descendants) {
    auto [pid, depth] = queue.front();
    queue.pop_front();
    if (depth >= options_.max_depth) continue;
    for (int64_t child : ChildrenOf(pid)) {
      if (added >= options_.max_descendants) break;
      if (!seen->insert(child).second) continue;
      uint64_t start = 0;
      std::optional<ProcessRole> role = ClassifyDescendant(child, &start);
      if (!role) continue;
      out->push_back(ProcessRef{child, *role, "", start});
      ++added;
      queue.emplace_back(child, depth + 1);
    }
  }
}

std::vector<ProcessRef> ProcReader::FindSandboxProcesses(const SandboxInfo& sandbox) const {
  std::vector<ProcessRef> out;
  std::unordered_set<int64_t> seen;
  bool sentry_alive = false;
  uint64_t sentry_start = 0;
  if (sandbox.pid > 0) {
    StatusOr<ProcStat> st = ReadStat(sandbox.pid);
    sentry_alive = st.ok() && (sandbox.pid_start_time != 0
                                   ? st->starttime == sandbox.pid_start_time
                                   : HasSubcommand(sandbox.pid, "boot", &sentry_start));
    if (sentry_alive) sentry_start = st->starttime;
  }
  if (sentry_alive) {
    out.push_back(ProcessRef{sandbox.pid, ProcessRole::kSentry, "", sentry_start});
    seen.insert(sandbox.pid);
  }
  // Gofers have no start time in the state file: a gofer pid is trusted only
  // while it runs `runsc gofer` (cheap: one ~200-byte read per container).
  for (const ContainerInfo& c : sandbox.containers) {
    if (c.gofer_pid <= 0 || seen.count(c.gofer_pid)) continue;
    uint64_t start = 0;
    if (!HasSubcommand(c.gofer_pid, "gofer", &start)) continue;
    seen.insert(c.gofer_pid);
    out.push_back(ProcessRef{c.gofer_pid, ProcessRole::kGofer, c.id, start});
  }
  if (sentry_alive) AddDescendants(sandbox.pid, &out, &seen);
  return out;
}

std::vector<HostProcess> ProcReader::ReadSandbox(const SandboxInfo& sandbox,
                                                 std::vector<Status>* errors) const {
  std::vector<HostProcess> out;
  const std::vector<ProcessRef> refs = FindSandboxProcesses(sandbox);
  std::vector<StatusOr<HostProcess>> read = ReadMany(refs);
  for (size_t i = 0; i < refs.size(); ++i) {
    const ProcessRef& ref = refs[i];
    StatusOr<HostProcess>& p = read[i];
    if (!p.ok()) {
      if (p.status().reason() != Reason::kNotFound && errors != nullptr) {
        errors->push_back(p.status().WithContext("pid " + std::to_string(ref.pid)));
      }
      continue;
    }
    p->container_id = ref.container_id;
    out.push_back(std::move(p).value());
  }
  return out;
}

}  // namespace gvisor_exporter
