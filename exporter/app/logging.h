// spdlog set-up for --log.level / --log.format (logfmt or JSON lines, stderr);
// the record format itself is exporter/common/log.h.
#pragma once

#include <string>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// `level` is a --log.level value (debug, info, warn, error), `format` a
// --log.format value (logfmt, json); both are validated by the flag parser.
Status SetUpLogging(const std::string& level, const std::string& format);

}  // namespace gvisor_exporter
