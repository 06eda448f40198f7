// The registered sources: the one list of what a poll reads, in the order it
// reads it (exporter/model/source.h).
#pragma once

#include "exporter/app/flags.h"
#include "exporter/common/error_reporter.h"
#include "exporter/poller/poller.h"

namespace gvisor_exporter {

// The sources the flags enable, in poll order. `errors` must outlive them.
Sources MakeSources(const Flags& flags, ErrorReporter* errors);

}  // namespace gvisor_exporter
