// Accept-Encoding negotiation for the telemetry path (declared in http_server.h).
#include <string_view>

#include "exporter/http/http_server.h"

namespace gvisor_exporter {

namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A qvalue (RFC 9110 12.4.2: "0" ["." 0*3DIGIT] / "1" ["." 0*3"0"]) is
// non-zero; false for zero or anything malformed.
bool PositiveQValue(std::string_view q) {
  if (q.empty() || (q[0] != '0' && q[0] != '1')) return false;
  if (q.size() > 1 && (q[1] != '.' || q.size() > 5)) return false;
  bool nonzero = q[0] == '1';
  for (size_t i = 2; i < q.size(); ++i) {
    if (q[i] < '0' || q[i] > '9') return false;
    if (q[0] == '1' && q[i] != '0') return false;
    nonzero = nonzero || q[i] != '0';
  }
  return nonzero;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  // -1: not listed; 0: listed, not acceptable; 1: acceptable.
  int gzip = -1, any = -1;
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const size_t semi = element.find(';');
    const std::string_view coding = Trim(element.substr(0, semi));
    const bool is_gzip = EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip");
    if (!is_gzip && coding != "*") continue;
    bool acceptable = true;
    std::string_view params =
        semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
    while (!params.empty()) {
      const size_t next = params.find(';');
      const std::string_view param = params.substr(0, next);
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      const size_t eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      if (EqualsIgnoreCase(Trim(param.substr(0, eq)), "q")) {
        acceptable = PositiveQValue(Trim(param.substr(eq + 1)));
      }
    }
    int& slot = is_gzip ? gzip : any;
    // Listed twice: not acceptable if either says so.
    slot = slot == 0 ? 0 : acceptable;
  }
  return gzip == -1 ? any == 1 : gzip == 1;
}

}  // namespace gvisor_exporter
