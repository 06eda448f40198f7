// Feeds arbitrary bytes to every parser in usage_parser.h. They must never
// crash, throw, or accept what they document as rejected.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/common/ids.h"
#include "exporter/common/json_util.h"
#include "exporter/sources/control/usage_parser.h"

// The entry point is extern "C", at global scope; what it tests is all ours.
using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool full = size > 0 && (data[0] & 1);

  (void)ParseUsageOutput(text, full);
  StatusOr<std::vector<EventStats>> events = ParseEventsStatsOutput(text);
  if (events.ok()) {
    for (const EventStats& e : *events) {
      if (!e.id.empty() && !IsValidId(e.id)) __builtin_trap();
    }
  }

  StatusOr<nlohmann::json> j = ParseJson(text);
  if (!j.ok()) return 0;
  StatusOr<EventStats> result = ParseEventResult(*j);
  if (result.ok()) {
    for (const auto& [id, ns] : result->container_cpu_ns) {
      if (!IsValidId(id)) __builtin_trap();
    }
    if (result->container_cpu_ns.size() > kMaxContainersPerSandbox) __builtin_trap();
  }
  (void)ParseStatsEvent(*j);
  StatusOr<SandboxMemory> memory = ParseMemoryUsage(*j, full);
  if (memory.ok() && memory->full != full) __builtin_trap();
  return 0;
}
