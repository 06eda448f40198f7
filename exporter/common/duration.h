// Durations as flags spell them, in Go's time.ParseDuration grammar (what
// users of Prometheus exporters type): a sequence of decimal numbers, each
// with an optional fraction and a unit, "300ms", "1.5h", "2h45m", "1m30s";
// units ns, us (or µs), ms, s, m, h. A bare "0" is zero. Unlike Go, signs are
// not accepted: no flag here means anything by a negative duration.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// kInvalid with the text in the message when it is not a duration or is over
// ~292 years (int64 nanoseconds, Go's bound too).
StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view s);

// The shortest spelling ParseDuration reads back: "5m", "1m30s", "500ms",
// "0s".
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace gvisor_exporter
