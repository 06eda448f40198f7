// The `/sandboxes` page: the current NodeSnapshot as one row per sandbox, for
// people (an HTML table, no JavaScript) and for scripts (JSON). Pure functions
// of the snapshot and the clock, so the HTTP server stays a thin dispatcher and
// every byte of the output can be unit-tested.
//
// Every string shown comes from untrusted input (pod names are CRI annotations,
// ids and paths come from state files): HTML output escapes every value and
// never contains invalid UTF-8; JSON output is produced by nlohmann, which
// escapes strings and replaces invalid UTF-8 instead of throwing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

// One sandbox as the page shows it: the snapshot's facts plus the figures
// derived from them (host PSS sum, overhead), with std::nullopt for "not known"
// (host collection off, usage unavailable) so that 0 is never shown for unknown.
struct SandboxRow {
  std::string pod;
  std::string pod_namespace;
  std::string id;
  std::string root;
  // From the CRI mapping (handler -> --runtime.classes); nullopt when the pod
  // is not known to CRI (CRI off or down), "" for a handler without a class.
  std::optional<std::string> runtime_class;
  std::string platform;
  std::string network;
  std::optional<uint64_t> memory_total_bytes;    // in-sandbox Total
  std::optional<uint64_t> host_pss_bytes;        // sum of PSS of the host processes
  std::optional<int64_t> memory_overhead_bytes;  // host PSS - Total (may be negative)
  std::optional<uint64_t> cgroup_memory_bytes;   // host cgroup usage
  std::string stats_path;                        // control_socket|cli|none
  // "off", or the syscall statistics' mode and state ("attach active", ...).
  std::string syscall_collection;
  std::optional<uint64_t> syscall_events_dropped;  // trace events the sentry dropped
  std::vector<std::string> containers;             // names of the app containers
};

// The rows of a snapshot, sorted by namespace, pod, sandbox id (then root).
std::vector<SandboxRow> BuildSandboxRows(const NodeSnapshot& snap);

// The HTML page. `snap` is null before the first poll; `now_seconds` is the
// wall clock, for the snapshot's age.
std::string RenderSandboxesHtml(const NodeSnapshot* snap, double now_seconds);

// The JSON document: {"sandboxes":[...],"snapshot":{...}}; before the first
// poll {"sandboxes":[],"snapshot":null}. Sizes are bytes, times seconds.
std::string RenderSandboxesJson(const NodeSnapshot* snap, double now_seconds);

// An untrusted string as HTML text or attribute value: valid UTF-8, at most
// 256 bytes (cut with an ellipsis), markup characters and quotes escaped,
// control characters replaced.
std::string HtmlText(const std::string& raw);

}  // namespace gvisor_exporter
