// Fuzzes the Accept-Encoding parser (a request header: untrusted input): it
// must never crash, and may only answer "gzip" when the header names gzip,
// x-gzip or the wildcard.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "exporter/http/http_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  if (gvisor_exporter::AcceptsGzip(header)) {
    std::string lower(header);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("gzip") == std::string::npos && lower.find('*') == std::string::npos) {
      std::abort();
    }
  }
  return 0;
}
