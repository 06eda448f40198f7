// Kernel-generated files kept open between polls and re-read with pread at
// offset 0.
//
// Why: /proc/<pid>/stat and cgroupfs files are regenerated on every read, so
// an open descriptor is as current as a fresh open, and a poll then costs one
// system call per file instead of openat + read + read + close. What an open
// descriptor still guarantees:
// - /proc/<pid>/*: once the process is gone the read fails (ESRCH) even if
//   the pid is reused, so a kept fd never describes another process;
// - cgroupfs: once the cgroup is removed the read fails (ENODEV), even if a
//   cgroup of the same path is created again.
// A read that fails drops the descriptor and the file is opened afresh once
// (which then fails with kNotFound when it is really gone). Only files of
// procfs and cgroupfs are kept: a regular file (a test's fake /proc) could be
// replaced behind a kept descriptor, so it is read the old way.
//
// A file is read with pread at offset 0 into a 4 KiB buffer (grown while it
// comes back full, up to max_bytes + 1). Files generated as one record
// (/proc/<pid>/stat, cmdline, cgroup value and .stat files: single_open or
// kernfs without seq_start) come whole in one read, so a short read is the
// end: one system call. Files of many records (cgroup.procs, smaps) stop a
// read short of a record that does not fit the kernel's page-sized buffer:
// when a read left more room than the largest record, it was the end (one
// system call again, for a cgroup of up to ~500 pids); else they are read
// until a read returns 0.
//
// Bounded: at most max_files descriptors (further files are read the old way,
// open + read + close). The owner calls EndRound() once per poll: files not
// read since the previous EndRound (gone sandboxes, exited processes) are
// closed then, so descriptors follow the live set poll by poll.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "exporter/common/status.h"
#include "exporter/common/unique_fd.h"

namespace gvisor_exporter {

// How a file is generated. max_bytes 0: one record (single_open); else
// records of at most max_bytes each (a pid and its newline: 8).
struct Records {
  size_t max_bytes = 0;
  static Records One() { return {}; }
  static Records OfAtMost(size_t bytes) { return Records{bytes}; }
};

class KeptFiles {
 public:
  using Opener = std::function<StatusOr<UniqueFd>()>;

  explicit KeptFiles(size_t max_files);

  // The usual Opener: `path` read-only, its last component not followed.
  static Opener OpenNoFollow(const std::string& path);

  // The whole content of the file known as `key`, read through its kept
  // descriptor, else opened by `open` (without the lock held) and kept.
  // kTooLarge beyond max_bytes.
  // `tag` (when not null) is set to the tag of the kept descriptor the file
  // was read through, nullopt when it was opened now: what a caller learned
  // about the file's process when it first read it still holds while the
  // same descriptor reads (e.g. the start time of a /proc/<pid> process).
  StatusOr<std::string> Read(const std::string& key, const Opener& open, size_t max_bytes,
                             Records records = Records::One(),
                             std::optional<uint64_t>* tag = nullptr);

  // Tags the kept descriptor of `key` (if kept), see Read.
  void SetTag(const std::string& key, uint64_t tag);

  // Closes the descriptor of `key`, if kept (e.g. its process is a zombie).
  void Forget(const std::string& key);

  // Closes the descriptors not read since the previous EndRound.
  void EndRound();

  size_t size() const;

  // The number of descriptors to keep when `share` of the process's file
  // limit (RLIMIT_NOFILE, soft) may be used, at most `cap`. The shares of
  // the exporter's owners (/proc 1/4, cgroups 1/3, discovery 1/8) leave a
  // quarter of the limit to sockets and everything else.
  static size_t Budget(double share, size_t cap);

 private:
  struct Entry {
    std::shared_ptr<UniqueFd> fd;
    uint64_t round = 0;  // the round it was last read in
    std::optional<uint64_t> tag;
  };
  std::shared_ptr<UniqueFd> Lookup(const std::string& key, std::optional<uint64_t>* tag);
  void Keep(const std::string& key, std::shared_ptr<UniqueFd> fd);

  const size_t max_files_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> files_;
  uint64_t round_ = 0;
};

// Raises this process's soft RLIMIT_NOFILE to its hard limit (at most 2^20).
void RaiseFileLimit();

// The whole file by pread at offset 0 (see above).
// True for a descriptor of procfs or cgroupfs (v1 or v2).
bool IsKernelGenerated(int fd);
StatusOr<std::string> PreadWhole(int fd, const std::string& what, size_t max_bytes,
                                 Records records = Records::One());

}  // namespace gvisor_exporter
