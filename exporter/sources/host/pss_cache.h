// The last smaps_rollup of each host process, so that it is not re-read on
// every poll.
//
// Why: reading smaps_rollup makes the kernel walk every resident page of the
// process (~100 ns per page); an idle sandbox's sentry + gofer have ~12k
// resident pages, and a perf profile of the exporter puts 42% of its CPU in
// that walk. The RSS in /proc/<pid>/stat is a counter, free to read. So a
// rollup is reused while it is younger than max_age AND the process's stat
// RSS is still within rss_tolerance of the RSS it had when the rollup was
// read: a process whose memory moves is re-read at once, an idle one every
// max_age. What can go unseen in between is a PSS change without an RSS
// change (another process starting or stopping to share the same pages).
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

  // max_age > 0. rss_tolerance: the relative RSS change that forces a re-read.
  PssCache(Clock::duration max_age, double rss_tolerance);

  // The rollup of this process incarnation (pid + start time) if it is fresh
  // enough for stat_rss_bytes at `now`.
  std::optional<SmapsRollup> Lookup(int64_t pid, uint64_t start_time, uint64_t stat_rss_bytes,
                                    Clock::time_point now) const;

  // Remembers a rollup just read, with the stat RSS of the same moment.
  // Entries older than max_age are dropped here (at most once per max_age),
  // so the cache holds only processes read recently.
  void Store(int64_t pid, uint64_t start_time, uint64_t stat_rss_bytes, const SmapsRollup& rollup,
             Clock::time_point now);

  size_t size() const;

 private:
  struct Entry {
    uint64_t start_time = 0;
    uint64_t stat_rss_bytes = 0;
    SmapsRollup rollup;
    Clock::time_point read_at;
  };

  const Clock::duration max_age_;
  const double rss_tolerance_;
  mutable std::mutex mu_;
  std::unordered_map<int64_t, Entry> entries_;  // by pid
  Clock::time_point last_sweep_;
};

}  // namespace gvisor_exporter
