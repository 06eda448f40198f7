// Fuzzes the gzip body assembly (ExpositionBody): whatever the texts and the
// mix of pre-compressed and per-response pieces, the body must be exactly one
// gzip member that inflates to the texts in order (a broken deflate join or
// CRC combination would be served to every Prometheus).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "exporter/collectors/exposition_body.h"
#include "exporter/collectors/testing_gzip.h"

using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace): a fuzz target

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Byte 0: per piece, whether it is shared and pre-compressed, and the level;
  // the rest is split into up to 4 texts at bytes 1..3 (as offsets).
  if (size < 4) return 0;
  const uint8_t mode = data[0];
  std::string rest(reinterpret_cast<const char*>(data) + 4, size - 4);
  size_t cuts[5] = {0, 0, 0, 0, rest.size()};
  for (int i = 1; i < 4; ++i) cuts[i] = rest.empty() ? 0 : data[i] % (rest.size() + 1);
  std::sort(cuts, cuts + 5);
  ExpositionBody body(/*gzip=*/true);
  std::string want;
  for (int i = 0; i < 4; ++i) {
    std::string text = rest.substr(cuts[i], cuts[i + 1] - cuts[i]);
    want += text;
    const bool shared = (mode >> i) & 1;
    if (shared) {
      auto t = std::make_shared<const std::string>(text);
      const bool precompressed = (mode >> (i + 4)) & 1;
      body.AddShared(t, precompressed ? std::make_shared<const DeflatedText>(
                                            DeflateText(*t, 1 + (data[1] % 9)))
                                      : nullptr);
    } else {
      body.AddText(std::move(text));
    }
  }
  std::string joined;
  for (const auto& piece : body.Finish()) joined += *piece;
  std::string got, why;
  if (!GunzipOneMember(joined, &got, &why) || got != want) std::abort();
  return 0;
}
