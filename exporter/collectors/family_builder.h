// Builds one prometheus::MetricFamily from a MetricDef, checking label arity
// and sanitizing label values that came from untrusted sources.
#pragma once

#include <prometheus/metric_family.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/collectors/metric_catalog.h"

namespace gvisor_exporter {

// Label values are bounded to this many bytes (longer values are cut at a
// UTF-8 boundary and marked with "..."): a pod name or image from CRI is input.
inline constexpr size_t kMaxLabelValueBytes = 256;

// Makes any byte string a valid, bounded UTF-8 label value (ToValidUtf8: each
// ill-formed subpart becomes one U+FFFD, as on /sandboxes and in the logs).
// Escaping of \ " and newlines is done by the text serializer.
std::string SanitizeLabelValue(std::string_view v);

// Label values `base` followed by `more` (e.g. the sandbox labels + a role).
inline std::vector<std::string> With(std::vector<std::string> base,
                                     std::initializer_list<std::string> more) {
  base.insert(base.end(), more);
  return base;
}

class FamilyBuilder {
 public:
  explicit FamilyBuilder(const MetricDef& def);

  // Adds one sample; `values` must match the definition's labels in order.
  void Add(const std::vector<std::string>& values, double value);

  bool empty() const { return family_.metric.empty(); }
  // Appends the family to `out` when it has samples (an empty family is not
  // rendered, like prometheus-cpp does for families without metrics).
  void MoveTo(std::vector<prometheus::MetricFamily>* out);

 private:
  const MetricDef& def_;
  prometheus::MetricFamily family_;
};

}  // namespace gvisor_exporter
