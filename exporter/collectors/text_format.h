// The Prometheus text exposition format (0.0.4), written straight into one
// string.
//
// prometheus-cpp's TextSerializer streams every character through an
// std::ostream; at 200 sandboxes (~13k series) that was 55% of a scrape's CPU
// (perf, render_bench). These write the same bytes — differential tests
// against TextSerializer keep them so — with appends into a pre-sized buffer
// and std::to_chars for numbers. Only counters and gauges (all we export);
// other types are skipped.
#pragma once

#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gvisor_exporter {

// Label values are bounded to this many bytes (longer values are cut at a
// UTF-8 boundary and marked with "..."): a pod name or image from CRI is input.
inline constexpr size_t kMaxLabelValueBytes = 256;

// Makes any byte string a valid, bounded UTF-8 label value (ToValidUtf8: each
// ill-formed subpart becomes one U+FFFD, as on /sandboxes and in the logs).
// Escaping of \ " and newlines is done by the text writer.
std::string SanitizeLabelValue(std::string_view v);

// The HELP and TYPE lines of a family; false, writing nothing, for a type
// that is not written (neither counter nor gauge).
bool AppendFamilyHeader(std::string_view name, prometheus::MetricType type, std::string_view help,
                        std::string* out);
// A label value, escaped (backslash, double quote, newline).
void AppendLabelValue(std::string_view s, std::string* out);
// SanitizeLabelValue(v), escaped (without a copy when v is already valid).
void AppendSanitizedLabelValue(std::string_view v, std::string* out);
// A sample value as TextSerializer writes it.
void AppendSampleValue(double v, std::string* out);

// Families as text (a family without samples is not written). The exporter
// writes its text from the metric rows with the helpers above; this is for
// families from elsewhere (tests compare it with TextSerializer).
void AppendTextFormat(const std::vector<prometheus::MetricFamily>& families, std::string* out);

}  // namespace gvisor_exporter
