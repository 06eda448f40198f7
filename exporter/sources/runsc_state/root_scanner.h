// Discovers gVisor sandboxes by reading runsc state directories ("roots").
//
// Every Scan() is a full rescan: list each root, read each small state file,
// check liveness in /proc. That costs a readdir plus a few KB of reads per
// container, cheap at a poll interval of seconds, and it needs no cache that
// could go stale: a root created, deleted or recreated between polls, or a
// state file rewritten by runsc, is simply seen as it is now.
//
// Roots:
//   - `roots`: explicit roots from a flag. A symlink here IS followed: the
//     configuration is trusted (and hosts symlink /var/run and the like).
//   - `root_parents`: every directory directly below a parent is a root
//     (containerd's shim uses <parent>/<namespace>, e.g. /run/containerd/runsc/
//     k8s.io). Parents are configuration too and are followed; an entry below a
//     parent that is a symlink is NOT (reported kInvalid): whoever can write
//     the parent must not be able to point the exporter elsewhere.
//   A root or parent that does not exist is normal (no error, no log). One
//   directory reached by two paths is scanned once (the lexically first path).
//
// Inside a root only regular files named `<container-id>_sandbox:<sandbox-id>
// .state` are read (openat + O_NOFOLLOW, size-bounded); other names (.lock,
// runsc-<id>.sock) are ignored quietly; symlinks and other non-regular files
// with that name, and names whose ids fail IsValidId, are reported kInvalid.
// The ids inside the file must equal those in its name.
//
// Errors go to the ErrorReporter (source "runsc_state") and skip just the
// file, sandbox or root concerned: the rest of the scan carries on. Stale
// state files (sentry pid gone or reused, see proc_check.h) are reported as
// kNotFound with the sandbox id as subject; the reporter rate-limits the log.
//
// ScanResult::success is false when an existing root or parent could not be
// listed or a limit (max_sandboxes, max_files_per_root) cut the result short;
// per-file problems are counted but leave it true.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "exporter/common/error_reporter.h"
#include "exporter/common/kept_files.h"
#include "exporter/common/pid_watch.h"
#include "exporter/model/sandbox.h"
#include "exporter/sources/runsc_state/state_file.h"

namespace gvisor_exporter {

inline constexpr char kRunscStateSource[] = "runsc_state";

struct RootScannerOptions {
  std::vector<std::string> roots;
  std::vector<std::string> root_parents = {"/run/containerd/runsc"};
  std::string proc_root = "/proc";
  size_t max_state_file_bytes = kDefaultMaxStateFileBytes;
  size_t max_sandboxes = 2000;        // over all roots
  size_t max_files_per_root = 10000;  // state files considered per root
  size_t max_roots = 256;             // roots per scan (explicit + discovered)
  // Locking and retries (see state_reader.h).
  int lock_attempts = 3;
  std::chrono::microseconds lock_retry_sleep{2000};
  int parse_retries = 2;
  std::chrono::microseconds parse_retry_sleep{5000};
  // Upper bound on all of one scan's sleeping, however many files are busy.
  std::chrono::microseconds max_wait_per_scan{200000};
  // A state file whose identity, size, mtime and ctime are what they were
  // when it was last parsed (and were already a second old then) is not read
  // again: one fstatat instead of lock + open + read.
  bool reuse_unchanged_state_files = true;
  // Sentries and gofers once verified are watched through pidfds, all in one
  // poll() per scan (pid_watch.h); where pidfds are unusable, their cmdline
  // is re-read through descriptors kept open between scans (kept_files.h).
  bool keep_proc_files = true;
};

struct ScanResult {
  std::vector<std::string> roots_found;  // existing roots scanned, sorted
  std::vector<SandboxInfo> sandboxes;    // live sandboxes, sorted by (root, id)
  bool success = true;
};

class RootScanner {
 public:
  // `reporter` must outlive the scanner.
  RootScanner(RootScannerOptions options, ErrorReporter* reporter);

  // Not thread-safe with itself: call from one poller thread.
  ScanResult Scan();

  const RootScannerOptions& options() const { return options_; }

 private:
  struct Root;
  struct ScanState;

  std::vector<Root> FindRoots(ScanState* state);
  void AddExplicitRoot(const std::string& path, std::vector<Root>* roots, ScanState* state);
  void AddRootsUnder(const std::string& parent, std::vector<Root>* roots, ScanState* state);
  void ScanRoot(const Root& root, ScanState* state);
  StatusOr<ParsedStateFile> ReadKnownStateFile(const Root& root, const std::string& name,
                                               ScanState* state);
  void Report(const Status& status, std::string_view subject);

  struct KnownFile {
    struct stat st;
    ParsedStateFile parsed;
  };

  RootScannerOptions options_;
  ErrorReporter* reporter_;
  std::unique_ptr<KeptFiles> kept_;         // null without keep_proc_files
  std::unique_ptr<PidWatch> watch_;         // null without keep_proc_files or pidfds
  std::map<std::string, KnownFile> known_;  // by "<root>/<state file name>"
};

}  // namespace gvisor_exporter
