// Reads one state file from an open runsc root, cooperating with runsc's locking.
//
// runsc takes an exclusive flock on `<name>.lock` around every read and write
// of `<name>.state`, and writes non-atomically (truncate, then write). So a
// reader opens the .lock read-only (never O_CREAT: we must not leave files in
// runsc's root), tries LOCK_SH|LOCK_NB a few times with a short sleep, and
// reads with or without the lock. The lock is held only for the read itself:
// runsc blocks on it (holding it for 3 s stalled `runsc state` for 2.6 s).
// A parse failure is retried only when the read was NOT under the lock (the
// lock was busy or absent), since only then can it be a half-written file.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "exporter/common/status.h"
#include "exporter/sources/runsc_state/state_file.h"

namespace gvisor_exporter {

struct StateReadOptions {
  size_t max_bytes = kDefaultMaxStateFileBytes;
  int lock_attempts = 3;  // flock tries before reading without the lock
  std::chrono::microseconds lock_retry_sleep{2000};
  int parse_retries = 2;  // extra reads after a parse error outside the lock
  std::chrono::microseconds parse_retry_sleep{5000};
};

// Total time one scan may spend sleeping on locks and retries, so a root full
// of busy or broken files still scans promptly. Once spent, reads go ahead
// without waiting.
class WaitBudget {
 public:
  explicit WaitBudget(std::chrono::microseconds total) : remaining_(total) {}
  // Sleeps for `d` if the budget allows; returns false (no sleep) otherwise.
  bool Sleep(std::chrono::microseconds d);
  std::chrono::microseconds remaining() const { return remaining_; }

 private:
  std::chrono::microseconds remaining_;
};

// `state_name` is a single path component inside `dir_fd` ending in ".state".
// Errors: those of ReadFileAtBounded (kNotFound when the file vanished,
// kInvalid for a symlink, kTooLarge) and of ParseStateFile.
StatusOr<ParsedStateFile> ReadStateFile(int dir_fd, const std::string& state_name,
                                        const StateReadOptions& options, WaitBudget* budget);

}  // namespace gvisor_exporter
