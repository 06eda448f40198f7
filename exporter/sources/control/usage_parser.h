// Parsers for what a sandbox reports about itself, shared by the control
// socket client and the runsc CLI fallback:
//   - containerManager.Event's result, and `runsc events -stats` lines;
//   - Usage.Collect's result, and `runsc usage [-full]` output.
// Pure functions over untrusted input: bounded, never throw, and reject
// negative, fractional or out-of-range numbers instead of guessing.
//
// runsc serializes with Go's `omitempty`, so a zero counter is omitted
// (`"cpu":{"usage":{}}`): a field missing from an object that is present reads
// as 0, while a missing object leaves the value unknown (std::nullopt).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

// More containers than this in one sandbox is not a pod: reject the reply.
inline constexpr size_t kMaxContainersPerSandbox = 1024;
// Interfaces kept per sandbox, in the sentry's order (a pod has a handful;
// the bound keeps a hostile sentry from inflating the series).
inline constexpr size_t kMaxNetworkInterfaces = 32;
// Bound on CLI output handed to the text parsers.
inline constexpr size_t kMaxUsageTextBytes = 1 << 20;

struct EventStats {
  std::string id;                              // the event's "id" ("" over urpc in 20221219)
  std::optional<uint64_t> memory_usage_bytes;  // data.memory.usage.usage
  std::optional<uint64_t> pids;                // data.pids.current
  // data.cpu.usage.total: the CLI's share of the host cgroup CPU (see
  // runsc_cli.h); always 0/absent over urpc.
  std::optional<uint64_t> cpu_total;
  // containerUsage (urpc only): the sentry's CPU ns per container. Entries with
  // ids that fail IsValidId are skipped.
  std::map<std::string, uint64_t> container_cpu_ns;
  // data.network_interfaces (runsc >= 2023): the sandbox's network stack,
  // the same in every container's event. At most kMaxNetworkInterfaces, with
  // unique names (the first of a repeated name wins); entries with a name that
  // is not a plausible interface name are skipped.
  std::optional<std::vector<NetworkInterface>> network;
};

// Parses one stats event object ({"type":"stats","id":..,"data":{..}}).
StatusOr<EventStats> ParseStatsEvent(const nlohmann::json& event);

// Parses containerManager.Event's result: {"event":{..},"containerUsage":{..}}.
StatusOr<EventStats> ParseEventResult(const nlohmann::json& result);

// Parses Usage.Collect's result / `runsc usage` object. `full` records whether
// the categories were requested (Full:true / -full); Total is required.
StatusOr<SandboxMemory> ParseMemoryUsage(const nlohmann::json& usage, bool full);

// Text forms, as printed by the CLI.
StatusOr<SandboxMemory> ParseUsageOutput(std::string_view text, bool full);
// One event per non-empty line.
StatusOr<std::vector<EventStats>> ParseEventsStatsOutput(std::string_view text);

}  // namespace gvisor_exporter
