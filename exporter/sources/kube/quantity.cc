#include "exporter/sources/kube/quantity.h"

#include <charconv>
#include <cmath>
#include <string>

#include "exporter/common/text.h"

namespace gvisor_exporter {

namespace {

constexpr double kMaxMagnitude = 1e21;  // > 2^64 bytes: nothing real is larger
constexpr int kMaxExponent = 30;

bool Digit(char c) { return c >= '0' && c <= '9'; }

// Error messages quote the input whole: quantities reaching them are at most
// kMaxQuantityBytes, which QuotedForMessage's default bound leaves uncut.
static_assert(kMaxQuantityBytes <= 80);

// Multiplier of an SI or binary suffix; false when unknown.
bool SuffixMultiplier(std::string_view suffix, double* out) {
  struct Entry {
    std::string_view name;
    double value;
  };
  static constexpr Entry kSuffixes[] = {
      {"", 1},        {"n", 1e-9},    {"u", 1e-6},    {"m", 1e-3},   {"k", 1e3},     {"M", 1e6},
      {"G", 1e9},     {"T", 1e12},    {"P", 1e15},    {"E", 1e18},   {"Ki", 0x1p10}, {"Mi", 0x1p20},
      {"Gi", 0x1p30}, {"Ti", 0x1p40}, {"Pi", 0x1p50}, {"Ei", 0x1p60}};
  for (const Entry& e : kSuffixes) {
    if (e.name == suffix) {
      *out = e.value;
      return true;
    }
  }
  return false;
}

}  // namespace

StatusOr<double> ParseQuantity(std::string_view s) {
  if (s.empty()) return ParseError("empty quantity");
  if (s.size() > kMaxQuantityBytes) return TooLargeError("quantity longer than 64 bytes");
  size_t i = 0;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
  // The number: digits with at most one '.', and at least one digit.
  const size_t number_start = i;
  size_t digits = 0;
  bool dot = false;
  for (; i < s.size(); ++i) {
    if (Digit(s[i])) {
      ++digits;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (digits == 0) return ParseError("quantity without a number: " + QuotedForMessage(s));
  // from_chars: locale-independent and without exceptions, on a span the
  // loop above already checked against the grammar.
  double value = 0;
  const char* first = s.data() + number_start;
  const char* last = s.data() + i;
  if (auto r = std::from_chars(first, last, value, std::chars_format::fixed);
      r.ec != std::errc() || r.ptr != last) {
    return ParseError("bad quantity number: " + QuotedForMessage(s));
  }
  const std::string_view suffix = s.substr(i);
  double multiplier = 1;
  // "E" and "Ei" are suffixes (exa, exbi); only an e/E followed by more is
  // an exponent. A suffix is never empty here ("" is in the table).
  if (!SuffixMultiplier(suffix, &multiplier)) {
    if (suffix[0] != 'e' && suffix[0] != 'E') {
      return ParseError("unknown quantity suffix in " + QuotedForMessage(s));
    }
    // A decimal exponent: (e|E)[+-]digits, nothing after.
    size_t j = 1;
    bool exp_negative = false;
    if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-'))
      exp_negative = suffix[j++] == '-';
    if (j == suffix.size())
      return ParseError("quantity exponent without digits: " + QuotedForMessage(s));
    int exponent = 0;
    for (; j < suffix.size(); ++j) {
      if (!Digit(suffix[j])) return ParseError("bad quantity exponent: " + QuotedForMessage(s));
      exponent = exponent * 10 + (suffix[j] - '0');
      if (exponent > kMaxExponent)
        return TooLargeError("quantity exponent too large: " + QuotedForMessage(s));
    }
    multiplier = std::pow(10.0, exp_negative ? -exponent : exponent);
  }
  value *= multiplier;
  if (!std::isfinite(value) || value > kMaxMagnitude) {
    return TooLargeError("quantity too large: " + QuotedForMessage(s));
  }
  return negative ? -value : value;
}

StatusOr<uint64_t> ParseMemoryBytes(std::string_view s) {
  auto q = ParseQuantity(s);
  if (!q.ok()) return q.status();
  if (*q < 0) return InvalidError("negative memory quantity " + QuotedForMessage(s));
  const double bytes = std::ceil(*q);
  // 2^63: the largest Quantity.Value() Kubernetes itself can represent.
  if (bytes >= 0x1p63) return TooLargeError("memory quantity too large: " + QuotedForMessage(s));
  return static_cast<uint64_t>(bytes);
}

StatusOr<double> ParseCpuCores(std::string_view s) {
  auto q = ParseQuantity(s);
  if (!q.ok()) return q.status();
  if (*q < 0) return InvalidError("negative cpu quantity " + QuotedForMessage(s));
  return *q == 0 ? 0.0 : *q;  // no "-0"
}

}  // namespace gvisor_exporter
