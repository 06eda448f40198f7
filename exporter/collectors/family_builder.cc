#include "exporter/collectors/family_builder.h"

#include <algorithm>

#include "exporter/common/log.h"
#include "exporter/common/text.h"

namespace gvisor_exporter {

std::string SanitizeLabelValue(std::string_view v) {
  // Fast path: short printable ASCII (ids, names, numbers) is valid as is.
  if (v.size() <= kMaxLabelValueBytes - 3 &&
      std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return std::string(v);
  }
  std::string out = ToValidUtf8(v);
  if (out.size() > kMaxLabelValueBytes - 3) {
    out.resize(Utf8Prefix(out, kMaxLabelValueBytes - 3).size());
    out += "...";
  }
  return out;
}

FamilyBuilder::FamilyBuilder(const MetricDef& def) : def_(def) {
  family_.name = def.name;
  family_.help = def.help;
  family_.type = def.type;
}

void FamilyBuilder::Add(const std::vector<std::string>& values, double value) {
  if (values.size() != def_.labels.size()) {
    LogError("internal: wrong number of label values",
             {{"metric", def_.name}, {"got", values.size()}, {"want", def_.labels.size()}});
    return;
  }
  prometheus::ClientMetric m;
  m.label.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    m.label.push_back({def_.labels[i], SanitizeLabelValue(values[i])});
  }
  if (def_.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family_.metric.push_back(std::move(m));
}

void FamilyBuilder::MoveTo(std::vector<prometheus::MetricFamily>* out) {
  if (!family_.metric.empty()) out->push_back(std::move(family_));
}

}  // namespace gvisor_exporter
