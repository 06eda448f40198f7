// Per-sandbox syscall statistics built from decoded trace events.
//
// Hot path: Add() is called for every event (millions per second at most),
// so per-container counts live in flat arrays indexed by syscall number and
// the last container is cached; nothing allocates after a container's first
// event. Cardinality is bounded and stable: per container, the first
// `max_syscalls` distinct syscalls get their own series for the life of the
// container, later ones are counted under "other"; likewise for
// (syscall, errno) pairs; containers beyond `max_containers` and events with
// an invalid container id are counted under container id "".
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "exporter/model/sandbox.h"
#include "exporter/sources/trace/syscall_names.h"
#include "exporter/sources/trace/trace_wire.h"

namespace gvisor_exporter {

// The sentry has raw points for numbers below this (442 on x86-64 in 20221219).
inline constexpr uint64_t kMaxTracedSysno = 512;

struct SyscallLimits {
  size_t max_syscalls = 128;   // per container: distinct syscall series
  size_t max_errors = 64;      // per container: distinct (syscall, errno) series
  size_t max_containers = 64;  // per sandbox
};

class SyscallAggregator {
 public:
  enum class AddResult { kCounted, kIgnored, kInvalidSysno };

  SyscallAggregator(Arch arch, SyscallLimits limits);

  // Counts one decoded event and folds in its header's dropped count.
  AddResult Add(const TraceEvent& ev);

  // Drops reported by the session itself (ListTraceSessions, cumulative,
  // not wrapping); the larger of the two sources wins.
  void ObserveSessionDrops(uint64_t total);
  uint64_t dropped() const;

  // The counts continue over a new trace session (sampling): the drop
  // counters the next events and ListTraceSessions report start again at 0.
  void BeginSession();

  // Containers whose ids were once live in the sandbox and no longer are
  // lose their series (ids never seen live are kept: they may be new).
  void RetainContainers(const std::set<std::string>& live_ids);

  // Container ids seen in events (listen mode identifies the sandbox by them).
  std::vector<std::string> container_ids() const;

  // The current counts as model values.
  std::vector<ContainerSyscalls> Containers() const;

 private:
  struct PerContainer {
    std::string id;
    bool was_live = false;
    std::array<uint64_t, kMaxTracedSysno> calls{};
    std::bitset<kMaxTracedSysno> admitted;
    size_t admitted_count = 0;
    uint64_t other_calls = 0;
    std::array<uint64_t, kMaxTracedSysno> enosys{};
    std::map<std::pair<uint16_t, int64_t>, uint64_t> errors;
    uint64_t other_errors = 0;
  };

  PerContainer& Lookup(std::string_view id);

  Arch arch_;
  SyscallLimits limits_;
  std::vector<std::unique_ptr<PerContainer>> containers_;
  PerContainer* last_ = nullptr;  // cache: consecutive events mostly share a container
  bool have_header_drops_ = false;
  uint32_t last_header_drops_ = 0;
  uint64_t header_drops_ = 0;
  uint64_t session_drops_ = 0;
  uint64_t earlier_sessions_drops_ = 0;  // sessions before BeginSession()
};

}  // namespace gvisor_exporter
