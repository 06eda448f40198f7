#include "exporter/common/error_reporter.h"

#include "exporter/common/log.h"

namespace gvisor_exporter {

namespace {

// Bound on remembered (source, reason, subject) keys: ids of gone sandboxes must
// not accumulate forever under churn.
constexpr size_t kMaxLimiterKeys = 4096;
}  // namespace

ErrorReporter::ErrorReporter(Clock::duration log_interval) : log_interval_(log_interval) {}

void ErrorReporter::Report(std::string_view source, const Status& status,
                           std::string_view subject) {
  if (status.ok()) return;
  const std::string reason = ReasonName(status.reason());
  bool log = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[{std::string(source), reason}];
    const auto now = Clock::now();
    auto key = std::make_tuple(std::string(source), reason, std::string(subject));
    auto it = last_logged_.find(key);
    if (it == last_logged_.end() || now - it->second >= log_interval_) {
      if (last_logged_.size() >= kMaxLimiterKeys) {
        // Drop entries older than the interval; if still full, start over.
        for (auto i = last_logged_.begin(); i != last_logged_.end();) {
          i = (now - i->second >= log_interval_) ? last_logged_.erase(i) : std::next(i);
        }
        if (last_logged_.size() >= kMaxLimiterKeys) last_logged_.clear();
      }
      last_logged_[key] = now;
      log = true;
    } else {
      ++suppressed_;
    }
  }
  if (log) {
    // subject and message are untrusted (paths, replies): the log formatter
    // quotes, bounds and UTF-8-sanitizes them.
    LogWarn(status.message(),
            {{"source", source},
             {"reason", reason},
             {"subject", subject},
             {"note",
              "repeats are counted in gvisor_exporter_errors_total and logged again after the "
              "rate limit"}});
  }
}

std::map<std::pair<std::string, std::string>, uint64_t> ErrorReporter::Counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

uint64_t ErrorReporter::suppressed_logs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return suppressed_;
}

}  // namespace gvisor_exporter
