#include "exporter/collectors/text_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "exporter/common/text.h"

namespace gvisor_exporter {

namespace {

// HELP text: backslash and newline escaped.
void AppendHelp(std::string_view s, std::string* out) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

// Short printable ASCII (ids, names, numbers) is a valid label value as is.
bool IsPlainLabelValue(std::string_view v) {
  return v.size() <= kMaxLabelValueBytes - 3 &&
         std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

}  // namespace

std::string SanitizeLabelValue(std::string_view v) {
  if (IsPlainLabelValue(v)) return std::string(v);
  std::string out = ToValidUtf8(v);
  if (out.size() > kMaxLabelValueBytes - 3) {
    out.resize(Utf8Prefix(out, kMaxLabelValueBytes - 3).size());
    out += "...";
  }
  return out;
}

// Most values need no escaping, so copy runs between the characters that do.
void AppendLabelValue(std::string_view s, std::string* out) {
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out->append(s.substr(start, i - start));
    out->append(c == '\\' ? "\\\\" : c == '"' ? "\\\"" : "\\n");
    start = i + 1;
  }
  out->append(s.substr(start));
}

void AppendSanitizedLabelValue(std::string_view v, std::string* out) {
  if (IsPlainLabelValue(v)) {
    AppendLabelValue(v, out);
  } else {
    AppendLabelValue(SanitizeLabelValue(v), out);
  }
}

// As TextSerializer: NaN, +Inf, -Inf, else %.16g (ostream default format at
// precision max_digits10 - 1).
void AppendSampleValue(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("Nan");
  } else if (std::isinf(v)) {
    out->append(v < 0 ? "-Inf" : "+Inf");
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 16);
    out->append(buf, r.ptr);
  }
}

bool AppendFamilyHeader(std::string_view name, prometheus::MetricType type, std::string_view help,
                        std::string* out) {
  const char* type_name = nullptr;
  if (type == prometheus::MetricType::Counter) type_name = "counter";
  if (type == prometheus::MetricType::Gauge) type_name = "gauge";
  if (type_name == nullptr) return false;
  if (!help.empty()) {
    out->append("# HELP ").append(name).push_back(' ');
    AppendHelp(help, out);
    out->push_back('\n');
  }
  out->append("# TYPE ").append(name).push_back(' ');
  out->append(type_name).push_back('\n');
  return true;
}

void AppendTextFormat(const std::vector<prometheus::MetricFamily>& families, std::string* out) {
  size_t series = 0;
  for (const auto& f : families) series += f.metric.size();
  out->reserve(out->size() + series * 160);
  for (const auto& f : families) {
    if (f.metric.empty() || !AppendFamilyHeader(f.name, f.type, f.help, out)) continue;
    const bool counter = f.type == prometheus::MetricType::Counter;
    for (const auto& m : f.metric) {
      out->append(f.name);
      if (!m.label.empty()) {
        out->push_back('{');
        bool first = true;
        for (const auto& l : m.label) {
          if (!first) out->push_back(',');
          first = false;
          out->append(l.name).append("=\"");
          AppendLabelValue(l.value, out);
          out->push_back('"');
        }
        out->push_back('}');
      }
      out->push_back(' ');
      AppendSampleValue(counter ? m.counter.value : m.gauge.value, out);
      out->push_back('\n');
    }
  }
}

}  // namespace gvisor_exporter
