// Liveness of many process incarnations in one system call.
//
// Discovery must tell, every poll, whether each sandbox's sentry and gofers
// still run (a state file outlives its sandbox). Re-reading a kept
// /proc/<pid>/cmdline per process costs a pread each, and reading a cmdline
// makes the kernel copy it out of the process's memory (mmap lock, page
// lookups). A pidfd (Linux >= 5.3) refers to one incarnation and polls
// readable once it has exited (zombie included), and one poll() answers for
// all of them: a round is one system call whatever the number of sandboxes.
//
// A pid is watched only after the caller verified it (cmdline, start time)
// with the pidfd already open: the pidfd then refers to the process that was
// verified, or to one that exited before the check, which the next round's
// poll drops. Pidfds not asked about in a round are closed at its end.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "exporter/common/unique_fd.h"

namespace gvisor_exporter {

// Whether <proc_root> numbers processes as this process sees them (its
// "self" is our pid): pids read there may be used with system calls.
bool SameProcNumbering(const std::string& proc_root);

class PidWatch {
 public:
  // Null when pidfds are unusable here (kernel, seccomp) or proc_root numbers
  // processes differently from us. At most `max_watched` pidfds stay open
  // (each is a descriptor); beyond, Watch declines and callers check the slow
  // way.
  static std::unique_ptr<PidWatch> Open(const std::string& proc_root, size_t max_watched);

  explicit PidWatch(size_t max_watched) : max_watched_(max_watched) {}

  // A pidfd for `pid`, to be verified and then passed to Watch; invalid when
  // there is no such process.
  static UniqueFd OpenPidfd(int64_t pid);

  // Starts a round: one poll() over every watched pidfd; exited ones are
  // dropped.
  void BeginRound();

  // The tag (e.g. start time) of what `key` names (the caller's: a pid and
  // what it was verified to be) when it is watched and was running at
  // BeginRound; marks it used this round.
  std::optional<uint64_t> Alive(const std::string& key);

  // Watches `key` through `pidfd`, opened before the caller's verification
  // (closed instead when max_watched are open).
  void Watch(const std::string& key, UniqueFd pidfd, uint64_t tag);

  // Ends a round: closes the pidfds that Alive or Watch did not touch.
  void EndRound();

  size_t size() const;

 private:
  struct Entry {
    UniqueFd pidfd;
    uint64_t tag = 0;
    bool used = false;
  };
  const size_t max_watched_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> watched_;
};

}  // namespace gvisor_exporter
