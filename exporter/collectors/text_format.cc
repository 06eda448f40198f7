#include "exporter/collectors/text_format.h"

#include <charconv>
#include <cmath>
#include <string_view>

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

// Label values: backslash, double quote and newline escaped. Most values
// need none, so copy runs between the characters that do.
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

// As TextSerializer: NaN, +Inf, -Inf, else %.16g (ostream default format at
// precision max_digits10 - 1).
void AppendValue(double v, std::string* out) {
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

}  // namespace

bool AppendFamilyHeader(const prometheus::MetricFamily& f, std::string* out) {
  const char* type = nullptr;
  if (f.type == prometheus::MetricType::Counter) type = "counter";
  if (f.type == prometheus::MetricType::Gauge) type = "gauge";
  if (type == nullptr) return false;
  if (!f.help.empty()) {
    out->append("# HELP ").append(f.name).push_back(' ');
    AppendHelp(f.help, out);
    out->push_back('\n');
  }
  out->append("# TYPE ").append(f.name).push_back(' ');
  out->append(type).push_back('\n');
  return true;
}

void AppendFamilySamples(const prometheus::MetricFamily& f, std::string* out) {
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
    AppendValue(counter ? m.counter.value : m.gauge.value, out);
    out->push_back('\n');
  }
}

void AppendTextFormat(const std::vector<prometheus::MetricFamily>& families, std::string* out) {
  size_t series = 0;
  for (const auto& f : families) series += f.metric.size();
  out->reserve(out->size() + series * 160);
  for (const auto& f : families) {
    if (f.metric.empty() || !AppendFamilyHeader(f, out)) continue;
    AppendFamilySamples(f, out);
  }
}

}  // namespace gvisor_exporter
