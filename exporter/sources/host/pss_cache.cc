#include "exporter/sources/host/pss_cache.h"

#include <cmath>

namespace gvisor_exporter {

PssCache::PssCache(Clock::duration max_age, double rss_tolerance)
    : max_age_(max_age), rss_tolerance_(rss_tolerance) {}

bool PssCache::Fresh(const Entry& e, const Moment& now) const {
  const Moment& was = e.read;
  if (was.start_time != now.start_time || now.at - was.at >= max_age_ || now.at < was.at) {
    return false;
  }
  const double rss = static_cast<double>(was.stat_rss_bytes);
  if (std::fabs(static_cast<double>(now.stat_rss_bytes) - rss) > rss_tolerance_ * rss) {
    return false;
  }
  if (was.sharers != 0 && now.sharers != 0 && was.sharers != now.sharers) {
    const double shared = static_cast<double>(e.rollup.pss_file.value_or(0));
    const double moved =
        std::fabs(static_cast<double>(now.sharers) - static_cast<double>(was.sharers));
    if (shared * moved / static_cast<double>(now.sharers) >
        rss_tolerance_ * static_cast<double>(e.rollup.pss)) {
      return false;
    }
  }
  return true;
}

std::optional<SmapsRollup> PssCache::Lookup(int64_t pid, const Moment& now) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(pid);
  if (it == entries_.end() || !Fresh(it->second, now)) return std::nullopt;
  // Read before the count was known (the first poll): the first count seen
  // after is its baseline.
  if (it->second.read.sharers == 0) it->second.read.sharers = now.sharers;
  return it->second.rollup;
}

void PssCache::Store(int64_t pid, const Moment& read, const SmapsRollup& rollup) {
  std::lock_guard<std::mutex> lock(mu_);
  if (read.at - last_sweep_ >= max_age_) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = read.at - it->second.read.at >= max_age_ ? entries_.erase(it) : std::next(it);
    }
    last_sweep_ = read.at;
  }
  entries_[pid] = Entry{read, rollup};
}

size_t PssCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace gvisor_exporter
