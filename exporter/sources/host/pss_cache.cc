#include "exporter/sources/host/pss_cache.h"

#include <cmath>

namespace gvisor_exporter {

PssCache::PssCache(Clock::duration max_age, double rss_tolerance)
    : max_age_(max_age), rss_tolerance_(rss_tolerance) {}

std::optional<SmapsRollup> PssCache::Lookup(int64_t pid, uint64_t start_time,
                                            uint64_t stat_rss_bytes, Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(pid);
  if (it == entries_.end()) return std::nullopt;
  const Entry& e = it->second;
  if (e.start_time != start_time || now - e.read_at >= max_age_ || now < e.read_at) {
    return std::nullopt;
  }
  const double was = static_cast<double>(e.stat_rss_bytes);
  const double moved = std::fabs(static_cast<double>(stat_rss_bytes) - was);
  if (moved > rss_tolerance_ * was) return std::nullopt;
  return e.rollup;
}

void PssCache::Store(int64_t pid, uint64_t start_time, uint64_t stat_rss_bytes,
                     const SmapsRollup& rollup, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now - last_sweep_ >= max_age_) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = now - it->second.read_at >= max_age_ ? entries_.erase(it) : std::next(it);
    }
    last_sweep_ = now;
  }
  entries_[pid] = Entry{start_time, stat_rss_bytes, rollup, now};
}

size_t PssCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace gvisor_exporter
