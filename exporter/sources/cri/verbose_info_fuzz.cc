// Fuzzes the parser of containerd's verbose PodSandboxStatus info document
// (untrusted input): it must return a value or a Status, never crash, and
// keep every field within its bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "exporter/sources/cri/verbose_info.h"

// The entry point is extern "C", at global scope; what it tests is all ours.
using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = ParseVerboseInfo(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.ok()) {
    if (r->pid < 0 || r->runtime_type.size() > 4096 || r->runtime_root.size() > 4096 ||
        r->runtime_binary.size() > 4096) {
      std::abort();
    }
  }
  return 0;
}
