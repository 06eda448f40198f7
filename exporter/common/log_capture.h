// Routes the default logger into a ring buffer for an object's lifetime: the
// doctor makes the problems a check logs (ErrorReporter's per-file warnings
// of the scanner) part of its report instead of stray lines on stdout, and
// tests read what was logged.
#pragma once

#include <spdlog/common.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "exporter/common/log.h"

namespace gvisor_exporter {

class LogCapture {
 public:
  // Keeps the last `lines` lines at `level` and above, formatted as the
  // exporter's logs are (MakeLogFormatter(format, layout)).
  LogCapture(LogFormat format, LogLayout layout, spdlog::level::level_enum level, size_t lines);
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> Lines() const;

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace gvisor_exporter
