// libFuzzer target: ParseStateFile must never crash, throw or hang on any
// input (state files are untrusted). Seeds: testdata/fuzz_seeds/ (real
// runsc 20221219 state files plus hand-made variants).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/sources/runsc_state/state_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = gvisor_exporter::ParseStateFile(text);
  if (parsed.ok()) {
    // Exercise the invariants the rest of the exporter relies on.
    const auto& cg = parsed->cgroup;
    if (!cg.path.empty() && !gvisor_exporter::ValidateHostPath(cg.path).ok()) __builtin_trap();
    if (parsed->sandbox_pid < 0 || parsed->gofer_pid < 0) __builtin_trap();
  }
  std::string container_id, sandbox_id;
  gvisor_exporter::SplitStateFileName(text, &container_id, &sandbox_id);
  return 0;
}
