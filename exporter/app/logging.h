// spdlog set-up for --log.level / --log.format (logfmt or JSON lines, stderr).
#pragma once

#include <string>

#include "exporter/common/status.h"

namespace gvisor_exporter {

Status SetUpLogging(const std::string& level, const std::string& format);

// JSON string escaping (quotes not included), used by the JSON formatter.
std::string JsonEscape(const std::string& s);

}  // namespace gvisor_exporter
