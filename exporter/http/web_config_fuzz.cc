// Fuzzes the web config parser (--web.config.file; an operator's file, but a
// typo or a truncated Secret must give an error, never a crash): any input
// either parses into a consistent config or fails with a message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "exporter/http/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = gvisor_exporter::ParseWebConfig(text, "/etc/gvisor-exporter");
  if (!config.ok()) {
    if (config.status().message().empty()) std::abort();
    return 0;
  }
  // What the parser promises to the TLS and auth code.
  if (config->tls_enabled && (config->tls.cert_file.empty() || config->tls.key_file.empty())) {
    std::abort();
  }
  if (config->tls.min_version > config->tls.max_version) std::abort();
  for (const auto& [user, hash] : config->basic_auth_users) {
    if (!gvisor_exporter::IsBcryptHash(hash)) std::abort();
  }
  for (const auto& [name, value] : config->headers) {
    if (value.find_first_of("\r\n") != std::string_view::npos) std::abort();
  }
  return 0;
}
