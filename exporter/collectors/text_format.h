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

// The two halves of one family's text, for writing a family whose samples are
// rendered in parts (chunked_render.h). AppendTextFormat writes a family as
// AppendFamilyHeader + AppendFamilySamples when it has samples, nothing when
// it has none.
//
// The HELP and TYPE lines of `f` (its metric ignored); false, writing nothing,
// for a type that is not written (neither counter nor gauge).
bool AppendFamilyHeader(const prometheus::MetricFamily& f, std::string* out);
// The sample lines of `f`, whatever its type (check AppendFamilyHeader first).
void AppendFamilySamples(const prometheus::MetricFamily& f, std::string* out);

}  // namespace gvisor_exporter
