// The last smaps_rollup of each host process, so that it is not re-read on
// every poll.
//
// Why: reading smaps_rollup makes the kernel walk every resident page of the
// process (~50-100 ns per page): 0.6 ms for an idle ptrace sentry (26 MiB
// resident), ~1 ms per sandbox with its gofer and stubs. Re-read every 30 s at
// a 15 s poll, that walk was half of the exporter's CPU. The RSS in
// /proc/<pid>/stat is a counter, free to read. So a rollup is reused while
//   * it is younger than max_age,
//   * the process's stat RSS is within rss_tolerance of the RSS it had when
//     the rollup was read (its own memory moved), and
//   * the number of processes sharing runsc's pages did not move enough to
//     change its PSS by more than rss_tolerance (below).
// ProcReader adds one more: the processes of one sandbox share memory with
// each other (the sentry's memory file is mapped by its stubs), so when one of
// them is re-read, all of them are.
//
// Sharers: most of a sentry's or gofer's resident pages are runsc's own
// binary, mapped by every sentry and gofer on the node (19 of 26 MiB for an
// idle sentry), so its PSS share Pss_File is ~ that size / N sharers. When N
// moves from N0, the PSS moves by about Pss_File * |N - N0| / N: at 2
// sandboxes a third sandbox changes each sentry's PSS by megabytes, at 200 a
// new one by ~0.1 KiB. The rollup is re-read when that estimate exceeds
// rss_tolerance of its PSS. What still goes unseen until max_age: sharing
// with other programs (page cache, KSM).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "exporter/sources/host/procfs.h"

namespace gvisor_exporter {

class PssCache {
 public:
  using Clock = std::chrono::steady_clock;

  // What a rollup was read at, or is looked up with.
  struct Moment {
    uint64_t start_time = 0;      // the process incarnation (stat starttime)
    uint64_t stat_rss_bytes = 0;  // its RSS from stat
    uint64_t sharers = 0;         // runsc processes on the node; 0: unknown
    Clock::time_point at;
  };

  // max_age > 0. rss_tolerance: the relative change that forces a re-read.
  PssCache(Clock::duration max_age, double rss_tolerance);

  // The rollup of process `pid` if one was stored for the same incarnation
  // and is still fresh enough at `now` (see the header comment). A rollup
  // stored with an unknown sharer count takes now.sharers as its count.
  std::optional<SmapsRollup> Lookup(int64_t pid, const Moment& now) const;

  // Remembers a rollup just read, with the moment it was read at. Entries
  // older than max_age are dropped here (at most once per max_age), so the
  // cache holds only processes read recently.
  void Store(int64_t pid, const Moment& read, const SmapsRollup& rollup);

  size_t size() const;

 private:
  struct Entry {
    Moment read;
    SmapsRollup rollup;
  };
  bool Fresh(const Entry& e, const Moment& now) const;

  const Clock::duration max_age_;
  const double rss_tolerance_;
  mutable std::mutex mu_;
  mutable std::unordered_map<int64_t, Entry> entries_;  // by pid
  Clock::time_point last_sweep_;
};

}  // namespace gvisor_exporter
