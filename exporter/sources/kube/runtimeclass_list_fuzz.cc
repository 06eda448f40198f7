// Fuzzes the parser of the Kubernetes API's RuntimeClassList (untrusted
// input): it must return a value or a Status, never crash, and everything it
// returns must satisfy the validation it promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "exporter/sources/kube/runtimeclass_list.h"

// The entry point is extern "C", at global scope; what it tests is all ours.
using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = ParseRuntimeClassList(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r.ok()) return 0;
  if (r->classes.size() + r->rejected.size() > kMaxRuntimeClasses) std::abort();
  for (const RuntimeClassInfo& c : r->classes) {
    if (!IsValidDnsSubdomain(c.name) || !IsValidDnsLabel(c.handler)) std::abort();
    if (c.overhead_cpu_cores && !(*c.overhead_cpu_cores >= 0)) std::abort();
  }
  return 0;
}
