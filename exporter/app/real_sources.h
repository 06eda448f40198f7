// Builds the poller's sources from the real source modules and flags.
#pragma once

#include "exporter/app/flags.h"
#include "exporter/common/error_reporter.h"
#include "exporter/poller/poller.h"

namespace gvisor_exporter {

PollerSources MakeRealSources(const Flags& flags, ErrorReporter* errors);

}  // namespace gvisor_exporter
