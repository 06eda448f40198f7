#include "exporter/app/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "exporter/common/log.h"

namespace gvisor_exporter {

Status SetUpLogging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_logger_mt("gvisor-exporter");
  spdlog::set_default_logger(logger);
  // from_str knows debug, info, warn and error (and maps unknown names to off).
  spdlog::set_level(spdlog::level::from_str(level));
  logger->set_formatter(MakeLogFormatter(format == "json" ? LogFormat::kJson : LogFormat::kLogfmt));
  spdlog::flush_on(spdlog::level::info);
  return Status::Ok();
}

}  // namespace gvisor_exporter
