#include "exporter/collectors/family_builder.h"

#include <algorithm>

#include "exporter/common/log.h"

namespace gvisor_exporter {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Reject overlong encodings, surrogates and out-of-range code points.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

}  // namespace

std::string SanitizeLabelValue(std::string_view v) {
  // Fast path: short printable ASCII (ids, names, numbers) is valid as is.
  if (v.size() <= kMaxLabelValueBytes - 3 &&
      std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return std::string(v);
  }
  std::string out;
  out.reserve(std::min(v.size(), kMaxLabelValueBytes));
  for (size_t i = 0; i < v.size();) {
    size_t n = Utf8SequenceLength(v, i);
    std::string_view piece = n ? v.substr(i, n) : std::string_view("\xEF\xBF\xBD");
    if (out.size() + piece.size() > kMaxLabelValueBytes - 3) {
      out += "...";
      return out;
    }
    out.append(piece);
    i += n ? n : 1;
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
