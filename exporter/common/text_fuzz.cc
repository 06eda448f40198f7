// libFuzzer target: the text helpers of common/text.h on arbitrary bytes (they
// exist for untrusted input). Traps when an invariant breaks: repaired text is
// valid, repair is idempotent and agrees with nlohmann's replacing dump (what
// the JSON views and the logs use), prefixes stay within budget and valid,
// ASCII renderings contain printable ASCII only.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "exporter/common/text.h"

namespace {

bool AllPrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The entry point is extern "C", at global scope; what it tests is all ours.
  using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace)
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const std::string valid = ToValidUtf8(in);
  if (!IsValidUtf8(valid)) __builtin_trap();
  if (ToValidUtf8(valid) != valid) __builtin_trap();
  if (IsValidUtf8(in) != (valid == in)) __builtin_trap();
  // Every byte yields at least one, an ill-formed subpart (<= 3 bytes) 3.
  if (valid.size() < in.size() || valid.size() > 3 * in.size()) __builtin_trap();

  const std::string dumped = nlohmann::json(std::string(in))
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const auto back = nlohmann::json::parse(dumped, nullptr, /*allow_exceptions=*/false);
  if (!back.is_string() || back.get_ref<const std::string&>() != valid) __builtin_trap();

  // The first byte doubles as a budget, to cut at every kind of position.
  const size_t budget = size == 0 ? 0 : data[0] % 64;
  const std::string_view prefix = Utf8Prefix(valid, budget);
  if (prefix.size() > budget || valid.substr(0, prefix.size()) != prefix) __builtin_trap();
  if (!IsValidUtf8(prefix)) __builtin_trap();
  if (valid.size() > budget && prefix.size() + 3 < budget) __builtin_trap();
  const std::string_view raw_prefix = Utf8Prefix(in, budget);
  if (raw_prefix.size() > budget || (in.size() > budget && raw_prefix.size() + 3 < budget)) {
    __builtin_trap();
  }

  const std::string printable = PrintableAscii(in, budget);
  if (!AllPrintableAscii(printable) || printable.size() > budget + 3) __builtin_trap();
  const std::string quoted = QuotedForMessage(in, budget);
  if (!AllPrintableAscii(quoted) || quoted.size() < 2 || quoted.front() != '"' ||
      quoted.back() != '"' || quoted.substr(1, quoted.size() - 2).find('"') != std::string::npos) {
    __builtin_trap();
  }
  const std::string no_controls = ReplaceAsciiControls(in);
  if (no_controls.size() != in.size()) __builtin_trap();
  for (char c : no_controls) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) __builtin_trap();
  }
  return 0;
}
