// Counts errors by (source, reason) and logs them rate-limited.
//
// Every failure a source meets goes through Report(): it bumps the counter
// behind gvisor_exporter_errors_total{source,reason} and logs the error once
// per (source, reason, subject) per `log_interval`, so a broken sandbox polled
// every few seconds does not flood the log, while a new problem is still seen.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

#include "exporter/common/status.h"

namespace gvisor_exporter {

class ErrorReporter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ErrorReporter(Clock::duration log_interval = std::chrono::minutes(5));

  // `source` is a fixed name ("runsc_state", "control_socket", ...); `subject`
  // says what failed (a sandbox id, a path) and only keys the log limiter.
  void Report(std::string_view source, const Status& status, std::string_view subject = "");

  // Cumulative counts, keyed by (source, reason name).
  std::map<std::pair<std::string, std::string>, uint64_t> Counts() const;
  // Number of log lines suppressed by rate limiting (for tests and self-metrics).
  uint64_t suppressed_logs() const;

 private:
  const Clock::duration log_interval_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> counts_;
  std::map<std::tuple<std::string, std::string, std::string>, Clock::time_point> last_logged_;
  uint64_t suppressed_ = 0;
};

}  // namespace gvisor_exporter
