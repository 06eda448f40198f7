#include "exporter/common/text.h"

#include <algorithm>
#include <cstdint>

namespace gvisor_exporter {

namespace {

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed sequence starting at s[i], or 0 when it is
// ill-formed; then *bad is the length of its maximal ill-formed subpart (the
// lead byte plus the continuation bytes that were still acceptable), which
// is replaced as one unit. The second-byte ranges after E0, ED, F0 and F4
// are what excludes overlong forms, surrogates and code points > U+10FFFF
// (Unicode table 3-7), so no decoded value needs checking.
size_t SequenceLength(std::string_view s, size_t i, size_t* bad) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong below U+0800
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong below U+10000
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    *bad = 1;  // continuation byte, C0/C1 (always overlong) or F5..FF
    return 0;
  }
  for (size_t k = 1; k < n; ++k) {
    if (i + k >= s.size()) {
      *bad = k;  // truncated at the end of the input
      return 0;
    }
    const auto cc = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (cc >= lo && cc <= hi) : IsContinuation(cc);
    if (!ok) {
      *bad = k;
      return 0;
    }
  }
  return n;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t bad = 0;
  for (size_t i = 0; i < s.size();) {
    const size_t n = SequenceLength(s, i, &bad);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) {
  std::string out;
  size_t start = 0;  // start of the run of valid bytes not yet copied
  size_t i = 0;
  size_t bad = 0;
  while (i < s.size()) {
    const size_t n = SequenceLength(s, i, &bad);
    if (n != 0) {
      i += n;
      continue;
    }
    // Most input is valid: copy runs, not sequences; reserve only once
    // something needs replacing.
    if (out.empty()) out.reserve(s.size() + 8);
    out.append(s.substr(start, i - start));
    out.append(kUtf8Replacement);
    i += bad;
    start = i;
  }
  if (start == 0) return std::string(s);
  out.append(s.substr(start));
  return out;
}

std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  for (int i = 0; i < 3 && cut > 0 && IsContinuation(static_cast<unsigned char>(s[cut])); ++i) {
    --cut;
  }
  return s.substr(0, cut);
}

std::string PrintableAscii(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes) + 3);
  for (char c : s.substr(0, max_bytes)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (s.size() > max_bytes) out += "...";
  return out;
}

std::string QuotedForMessage(std::string_view s, size_t max_bytes) {
  std::string out = "\"";
  for (char c : s.substr(0, max_bytes)) out.push_back(c >= 0x20 && c < 0x7f && c != '"' ? c : '?');
  if (s.size() > max_bytes) out += "...";
  out += '"';
  return out;
}

std::string ReplaceAsciiControls(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace gvisor_exporter
