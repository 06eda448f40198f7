#include "exporter/common/error_reporter.h"

#include <spdlog/spdlog.h>

namespace gvisor_exporter {

namespace {

// Quotes untrusted text for a logfmt value: no raw quotes, backslashes or
// control characters reach the log line, and it is bounded.
std::string Quote(std::string_view v) {
  std::string out;
  for (unsigned char c : v.substr(0, 512)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += "0123456789abcdef"[c >> 4];
      out += "0123456789abcdef"[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

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
    spdlog::warn(
        "source={} reason={} subject=\"{}\" msg=\"{}\" note=\"repeats are counted in "
        "gvisor_exporter_errors_total and logged again after the rate limit\"",
        source, reason, Quote(subject), Quote(status.message()));
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
