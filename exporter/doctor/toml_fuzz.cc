// libFuzzer target: ParseToml (toml++ behind our adapter) on arbitrary bytes
// must never crash, hang or overflow the stack (the adapter's depth bounds,
// see TomlLimits), and whatever parses must convert and render as JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/doctor/toml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gvisor_exporter::ParseToml;
  auto doc = ParseToml(std::string_view(reinterpret_cast<const char*>(data), size));
  if (doc.ok()) {
    (void)doc->ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    (void)doc->FindPath({"plugins", "io.containerd.grpc.v1.cri", "containerd", "runtimes"});
  }
  return 0;
}
