// The Prometheus text exposition format (0.0.4), written straight into one
// string.
//
// prometheus-cpp's TextSerializer streams every character through an
// std::ostream; at 200 sandboxes (~13k series) that was 55% of a scrape's CPU
// (perf, render_bench). This writes the same bytes — a differential test
// against TextSerializer keeps it so — with appends into a pre-sized buffer
// and std::to_chars for numbers. Only counters and gauges (all we export);
// other types are skipped.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace gvisor_exporter {

void AppendTextFormat(const std::vector<prometheus::MetricFamily>& families, std::string* out);

}  // namespace gvisor_exporter
