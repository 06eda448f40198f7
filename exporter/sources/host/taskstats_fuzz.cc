// libFuzzer target: replies from the kernel's generic netlink (taskstats and
// the family lookup), parsed with every length checked against the buffer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/sources/host/taskstats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The entry point is extern "C", at global scope; what it tests is all ours.
  using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace)
  const std::string_view msg(reinterpret_cast<const char*>(data), size);
  (void)ParseTaskstatsReply(msg, 42);
  (void)ParseFamilyReply(msg);
  return 0;
}
