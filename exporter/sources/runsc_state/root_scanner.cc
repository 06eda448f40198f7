#include "exporter/sources/runsc_state/root_scanner.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "exporter/common/file_util.h"
#include "exporter/common/ids.h"
#include "exporter/common/text.h"
#include "exporter/sources/runsc_state/dir_listing.h"
#include "exporter/sources/runsc_state/sandbox_builder.h"
#include "exporter/sources/runsc_state/state_reader.h"

namespace gvisor_exporter {

namespace {

// Each state file has a .lock beside it, newer runsc adds a socket per
// sandbox: list a few times more entries than state files we accept.
size_t MaxListedEntries(size_t max_files) { return max_files * 4 + 64; }

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

struct RootScanner::Root {
  std::string path;
  UniqueFd fd;
  dev_t dev = 0;
  ino_t ino = 0;
};

struct RootScanner::ScanState {
  explicit ScanState(std::chrono::microseconds wait) : budget(wait) {}
  WaitBudget budget;
  ScanResult result;
  bool sandbox_limit_hit = false;
  std::set<std::string> files_seen;  // keys of known_ met in this scan
};

RootScanner::RootScanner(RootScannerOptions options, ErrorReporter* reporter)
    : options_(std::move(options)),
      reporter_(reporter),
      // A cmdline per sentry and gofer, where pidfds cannot watch them.
      kept_(options_.keep_proc_files
                ? std::make_unique<KeptFiles>(KeptFiles::Budget(1.0 / 8, 16384))
                : nullptr),
      // A pidfd per sentry and gofer: the same share of the fd limit.
      watch_(options_.keep_proc_files
                 ? PidWatch::Open(options_.proc_root, KeptFiles::Budget(1.0 / 8, 16384))
                 : nullptr) {}

namespace {

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// A file whose last change is this old cannot change again within the same
// timestamp: later writes show as another mtime/ctime (the racy-git rule).
bool Settled(const struct stat& st) {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return st.st_ctim.tv_sec + 1 < now.tv_sec && st.st_mtim.tv_sec + 1 < now.tv_sec;
}

}  // namespace

StatusOr<ParsedStateFile> RootScanner::ReadKnownStateFile(const Root& root, const std::string& name,
                                                          ScanState* state) {
  const StateReadOptions read_options{options_.max_state_file_bytes, options_.lock_attempts,
                                      options_.lock_retry_sleep, options_.parse_retries,
                                      options_.parse_retry_sleep};
  if (!options_.reuse_unchanged_state_files) {
    return ReadStateFile(root.fd.get(), name, read_options, &state->budget);
  }
  std::string key = root.path + "/" + name;
  struct stat st {};
  const bool have_stat =
      ::fstatat(root.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
  auto it = known_.find(key);
  if (have_stat && it != known_.end() && SameFile(it->second.st, st)) {
    state->files_seen.insert(std::move(key));
    return it->second.parsed;
  }
  StatusOr<ParsedStateFile> parsed =
      ReadStateFile(root.fd.get(), name, read_options, &state->budget);
  if (parsed.ok() && have_stat && Settled(st)) {
    known_[key] = KnownFile{st, *parsed};
    state->files_seen.insert(std::move(key));
  } else if (it != known_.end()) {
    known_.erase(it);
  }
  return parsed;
}

void RootScanner::Report(const Status& status, std::string_view subject) {
  // Names from a directory end up in logs: keep them printable and short.
  constexpr size_t kMaxSubjectBytes = 200;
  reporter_->Report(kRunscStateSource, status, PrintableAscii(subject, kMaxSubjectBytes));
}

ScanResult RootScanner::Scan() {
  ScanState state(options_.max_wait_per_scan);
  if (watch_) watch_->BeginRound();
  std::vector<Root> roots = FindRoots(&state);
  for (const Root& root : roots) {
    state.result.roots_found.push_back(root.path);
    ScanRoot(root, &state);
  }
  // Files not met (deleted, or their root gone) are forgotten, and the /proc
  // files of sentries and gofers not checked in this scan are closed.
  std::erase_if(known_, [&](const auto& kv) { return state.files_seen.count(kv.first) == 0; });
  if (kept_) kept_->EndRound();
  if (watch_) watch_->EndRound();
  return std::move(state.result);
}

std::vector<RootScanner::Root> RootScanner::FindRoots(ScanState* state) {
  std::vector<Root> found;
  for (const std::string& path : options_.roots) AddExplicitRoot(path, &found, state);
  for (const std::string& parent : options_.root_parents) AddRootsUnder(parent, &found, state);
  // Sorted by path, then one root per directory: the lexically first path wins.
  std::sort(found.begin(), found.end(),
            [](const Root& a, const Root& b) { return a.path < b.path; });
  std::vector<Root> roots;
  std::set<std::pair<dev_t, ino_t>> seen;
  for (Root& r : found) {
    if (!seen.insert({r.dev, r.ino}).second) continue;
    if (roots.size() >= options_.max_roots) {
      Report(TooLargeError("more than " + std::to_string(options_.max_roots) + " roots"), r.path);
      state->result.success = false;
      break;
    }
    roots.push_back(std::move(r));
  }
  return roots;
}

void RootScanner::AddExplicitRoot(const std::string& raw_path, std::vector<Root>* roots,
                                  ScanState* state) {
  const std::string path = StripTrailingSlashes(raw_path);
  StatusOr<UniqueFd> fd = OpenDir(path, NotADirectory::kInvalid);
  if (!fd.ok()) {
    if (fd.status().reason() == Reason::kNotFound) return;  // not created yet: normal
    Report(fd.status(), path);
    state->result.success = false;
    return;
  }
  Root root{path, std::move(fd).value()};
  if (Status s = FileIdentity(root.fd.get(), &root.dev, &root.ino); !s.ok()) {
    Report(s, path);
    state->result.success = false;
    return;
  }
  roots->push_back(std::move(root));
}

void RootScanner::AddRootsUnder(const std::string& raw_parent, std::vector<Root>* roots,
                                ScanState* state) {
  const std::string parent = StripTrailingSlashes(raw_parent);
  StatusOr<UniqueFd> parent_fd = OpenDir(parent, NotADirectory::kInvalid);
  if (!parent_fd.ok()) {
    if (parent_fd.status().reason() == Reason::kNotFound) return;
    Report(parent_fd.status(), parent);
    state->result.success = false;
    return;
  }
  bool truncated = false;
  StatusOr<std::vector<DirEntry>> entries =
      ListDir(parent_fd->get(), options_.max_roots, &truncated);
  if (!entries.ok()) {
    Report(entries.status(), parent);
    state->result.success = false;
    return;
  }
  if (truncated) {
    Report(TooLargeError("more than " + std::to_string(options_.max_roots) + " entries"), parent);
    state->result.success = false;
  }
  const std::string prefix = parent == "/" ? "/" : parent + "/";
  for (const DirEntry& e : *entries) {
    if (e.type == EntryType::kSymlink) {
      Report(InvalidError("root is a symlink (not followed)"), prefix + e.name);
      continue;
    }
    if (e.type != EntryType::kDirectory) continue;  // stray files: not roots
    StatusOr<UniqueFd> fd = OpenDirAt(parent_fd->get(), e.name);
    if (!fd.ok()) {
      // Gone since the listing: normal churn. Anything else is worth a count.
      if (fd.status().reason() != Reason::kNotFound) Report(fd.status(), prefix + e.name);
      continue;
    }
    Root root{prefix + e.name, std::move(fd).value()};
    if (FileIdentity(root.fd.get(), &root.dev, &root.ino).ok()) roots->push_back(std::move(root));
  }
}

void RootScanner::ScanRoot(const Root& root, ScanState* state) {
  if (state->sandbox_limit_hit) return;
  bool truncated = false;
  StatusOr<std::vector<DirEntry>> entries =
      ListDir(root.fd.get(), MaxListedEntries(options_.max_files_per_root), &truncated);
  if (!entries.ok()) {
    Report(entries.status(), root.path);
    state->result.success = false;
    return;
  }
  // Candidates in name order, so that a limit cuts the same files every time.
  std::sort(entries->begin(), entries->end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  std::map<std::string, std::vector<ParsedStateFile>> by_sandbox;
  size_t files = 0;
  for (const DirEntry& e : *entries) {
    std::string container_id, sandbox_id;
    if (!SplitStateFileName(e.name, &container_id, &sandbox_id)) continue;
    const std::string subject = root.path + "/" + e.name;
    if (!IsValidId(container_id) || !IsValidId(sandbox_id)) {
      Report(InvalidError("invalid id in state file name"), subject);
      continue;
    }
    if (e.type == EntryType::kGone) continue;  // deleted since the listing
    if (e.type != EntryType::kRegular) {
      Report(InvalidError("state file is not a regular file (symlinks are not followed)"), subject);
      continue;
    }
    if (++files > options_.max_files_per_root) {
      truncated = true;
      break;
    }
    StatusOr<ParsedStateFile> parsed = ReadKnownStateFile(root, e.name, state);
    if (!parsed.ok()) {
      // kNotFound: runsc deleted the container since the listing.
      if (parsed.status().reason() != Reason::kNotFound) Report(parsed.status(), subject);
      continue;
    }
    if (parsed->container_id != container_id || parsed->sandbox_id != sandbox_id) {
      Report(InvalidError("ids in state file do not match its name"), subject);
      continue;
    }
    by_sandbox[sandbox_id].push_back(std::move(parsed).value());
  }
  if (truncated) {
    Report(TooLargeError("root holds more than " + std::to_string(options_.max_files_per_root) +
                         " state files"),
           root.path);
    state->result.success = false;
  }
  for (auto& [sandbox_id, parsed_files] : by_sandbox) {
    if (state->sandbox_limit_hit) return;
    StatusOr<SandboxInfo> info = BuildSandbox(root.path, sandbox_id, std::move(parsed_files),
                                              options_.proc_root, kept_.get(), watch_.get());
    if (!info.ok()) {
      Report(info.status(), sandbox_id);
      continue;
    }
    // Counted after the liveness check: stale files must not use up the limit.
    if (state->result.sandboxes.size() >= options_.max_sandboxes) {
      Report(TooLargeError("more than " + std::to_string(options_.max_sandboxes) + " sandboxes"),
             root.path);
      state->sandbox_limit_hit = true;
      state->result.success = false;
      return;
    }
    state->result.sandboxes.push_back(std::move(info).value());
  }
}

}  // namespace gvisor_exporter
