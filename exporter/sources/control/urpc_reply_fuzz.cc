// Fuzzes urpc framing: the incremental JsonValueScanner and the reply
// envelope. Checks that chunking never changes where a value ends, and that
// the scanner agrees with the real JSON parser on complete values.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/common/json_util.h"
#include "exporter/sources/control/urpc_reply.h"

// The entry point is extern "C", at global scope; what it tests is all ours.
using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace)

namespace {

// Feeds `text` in chunks whose sizes cycle through `sizes` (all >= 1).
JsonValueScanner FeedChunked(std::string_view text, std::string_view sizes) {
  JsonValueScanner s;
  size_t i = 0, k = 0;
  while (i < text.size() && s.state() == JsonValueScanner::State::kNeedMore) {
    const size_t n = sizes.empty() ? 1 : 1 + static_cast<uint8_t>(sizes[k++ % sizes.size()]) % 17;
    s.Feed(text.substr(i, n));
    i += n;
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // First byte: how many of the next bytes choose chunk sizes.
  const size_t nsizes = std::min<size_t>(data[0] % 8, size - 1);
  const std::string_view sizes(reinterpret_cast<const char*>(data) + 1, nsizes);
  const std::string_view text(reinterpret_cast<const char*>(data) + 1 + nsizes, size - 1 - nsizes);

  JsonValueScanner whole;
  whole.Feed(text);
  JsonValueScanner chunked = FeedChunked(text, sizes);
  if (whole.state() != chunked.state()) __builtin_trap();
  const bool complete = whole.state() == JsonValueScanner::State::kComplete;
  if (complete && whole.end_offset() != chunked.end_offset()) __builtin_trap();
  if (complete && (whole.end_offset() == 0 || whole.end_offset() > text.size())) __builtin_trap();

  // Whatever the real parser accepts as one object/array, the scanner must
  // see complete, with only whitespace after it. (nlohmann takes a NUL byte
  // for the end of input, so text with one is left out of this check.)
  StatusOr<nlohmann::json> parsed = ParseJson(text);
  const bool has_nul = text.find('\0') != std::string_view::npos;
  if (!has_nul && parsed.ok() && (parsed->is_object() || parsed->is_array())) {
    if (!complete) __builtin_trap();
    const std::string_view rest = text.substr(whole.end_offset());
    if (!std::all_of(rest.begin(), rest.end(), IsJsonSpace)) __builtin_trap();
  }

  if (complete) (void)ParseUrpcReply(text.substr(0, whole.end_offset()));
  (void)ParseUrpcReply(text);
  return 0;
}
