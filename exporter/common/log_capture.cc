#include "exporter/common/log_capture.h"

#include <spdlog/spdlog.h>

namespace gvisor_exporter {

LogCapture::LogCapture(LogFormat format, LogLayout layout, spdlog::level::level_enum level,
                       size_t lines)
    : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(lines)),
      previous_(spdlog::default_logger()) {
  auto logger = std::make_shared<spdlog::logger>("capture", sink_);
  logger->set_formatter(MakeLogFormatter(format, layout));
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

LogCapture::~LogCapture() { spdlog::set_default_logger(previous_); }

std::vector<std::string> LogCapture::Lines() const { return sink_->last_formatted(); }

}  // namespace gvisor_exporter
