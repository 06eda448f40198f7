// Untrusted bytes made safe as text: UTF-8 validation and repair, cutting to
// a byte budget, and ASCII-only renderings for error messages.
//
// Everything the exporter shows comes from somewhere it does not control:
// state files, urpc and CRI replies, directory entries, a subprocess's
// stderr. Each consumer needs a different guarantee (valid UTF-8 for HTML,
// JSON and Prometheus labels; printable ASCII for one-line error messages),
// so each function says which input it is for. They never throw and accept
// any bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gvisor_exporter {

// U+FFFD REPLACEMENT CHARACTER, UTF-8 encoded: what ToValidUtf8 puts in place
// of ill-formed bytes, and what HTML puts in place of control characters.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

// True when `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.
bool IsValidUtf8(std::string_view s);

// For untrusted bytes headed to a consumer that must get valid UTF-8 (HTML
// pages, Prometheus label values, JSON): `s` with every maximal ill-formed
// subpart replaced by one U+FFFD, the Unicode-recommended practice (Unicode
// 15, section 3.9). nlohmann::json's error_handler_t::replace does the same,
// so a value reads the same on /metrics, /sandboxes and in the logs.
// Valid input comes back unchanged.
std::string ToValidUtf8(std::string_view s);

// For cutting untrusted text to a byte budget: the longest prefix of `s` of
// at most `max_bytes` that does not end inside a UTF-8 sequence. It backs off
// at most 3 bytes (the most a valid sequence can have after the cut), so a
// run of stray continuation bytes in invalid input is cut, not dropped
// whole. Valid input gives a valid prefix.
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);

// For untrusted bytes in error messages and log text that must stay one
// plain line (directory entry names, a subprocess's stderr): every byte
// outside printable ASCII (0x20..0x7E) becomes '?', so control characters
// cannot forge lines or drive a terminal and no invalid UTF-8 gets through.
// Longer than `max_bytes`: the first `max_bytes` bytes, then "...".
std::string PrintableAscii(std::string_view s, size_t max_bytes = std::string_view::npos);

// For a rejected input value quoted inside an error message ("bad handler
// \"a?b\""): PrintableAscii with '"' also replaced, so the quotes delimit it
// unambiguously; when cut, the "..." is inside the quotes.
std::string QuotedForMessage(std::string_view s, size_t max_bytes = 80);

// For human-readable terminal output that may show non-ASCII text (the
// doctor's text report: paths, runsc output): ASCII control characters
// (0x00..0x1F, 0x7F) become '?', every other byte is kept as is.
std::string ReplaceAsciiControls(std::string_view s);

}  // namespace gvisor_exporter
