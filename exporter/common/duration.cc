#include "exporter/common/duration.h"

#include <cstdint>
#include <limits>
#include <utility>

namespace gvisor_exporter {

namespace {

struct Unit {
  std::string_view name;
  int64_t ns;
};

// Longest names first is not needed: a unit is all the letters up to the
// next digit, looked up whole ("ms" never matches "m").
constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1'000},
    {"\xC2\xB5s", 1'000},  // U+00B5 micro sign, as Go accepts
    {"\xCE\xBCs", 1'000},  // U+03BC Greek small mu
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

StatusOr<std::chrono::nanoseconds> ParseDuration(std::string_view s) {
  const auto bad = [&](const char* why) {
    return InvalidError("bad duration \"" + std::string(s.substr(0, 64)) + "\": " + why +
                        " (e.g. 500ms, 30s, 1m30s, 2h)");
  };
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return bad("empty");
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    // Integer part, exact; the fraction adds at most one unit's worth.
    int64_t whole = 0;
    bool digits = false, overflow = false;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      digits = true;
      if (whole > (kMax - (s[i] - '0')) / 10) overflow = true;
      if (!overflow) whole = whole * 10 + (s[i] - '0');
    }
    double fraction = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      for (++i; i < s.size() && IsDigit(s[i]); ++i) {
        digits = true;
        if (scale < 1e18) {
          scale *= 10;
          fraction += (s[i] - '0') / scale;
        }
      }
    }
    if (!digits) return bad("expected a number");
    const size_t start = i;
    while (i < s.size() && !IsDigit(s[i]) && s[i] != '.') ++i;
    const std::string_view name = s.substr(start, i - start);
    if (name.empty()) return bad("missing unit");
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == name) unit = &u;
    }
    if (unit == nullptr) return bad("unknown unit (use ns, us, ms, s, m, h)");
    if (overflow || whole > kMax / unit->ns) return bad("too large");
    const int64_t part = whole * unit->ns + static_cast<int64_t>(fraction * unit->ns);
    if (part > kMax - total) return bad("too large");
    total += part;
  }
  return std::chrono::nanoseconds(total);
}

std::string FormatDuration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;  // no flag default is negative; kept readable anyway
  }
  for (const auto& [name, size] : {std::pair<const char*, int64_t>{"h", 3'600'000'000'000},
                                   {"m", 60'000'000'000},
                                   {"s", 1'000'000'000},
                                   {"ms", 1'000'000},
                                   {"us", 1'000},
                                   {"ns", 1}}) {
    if (ns >= size) {
      out += std::to_string(ns / size) + name;
      ns %= size;
    }
  }
  return out;
}

}  // namespace gvisor_exporter
