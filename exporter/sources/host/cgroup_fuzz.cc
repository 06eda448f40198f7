// libFuzzer target: untrusted cgroup paths and cgroupfs "key value" files.
// Seeds: testdata/fuzz_seeds/cgroup_fuzz/ (real memory.stat, systemd specs).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/sources/host/cgroup.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The entry point is extern "C", at global scope; what it tests is all ours.
  using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace)
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  StatusOr<std::string> rel = ValidateCgroupPath(text);
  // A validated path never escapes: no ".." component, no NUL.
  if (rel.ok() &&
      (rel->find('\0') != std::string::npos || *rel == ".." || rel->starts_with("../") ||
       rel->find("/../") != std::string::npos || rel->ends_with("/.."))) {
    __builtin_trap();
  }
  StatusOr<std::string> sd = SystemdCgroupPath(text);
  if (sd.ok() && !ValidateCgroupPath(*sd).ok()) __builtin_trap();
  uint64_t v = 0;
  (void)FindStatValue(text, "total_inactive_file", &v);
  (void)FindStatValue(text, "usage_usec", &v);
  return 0;
}
