// Pure rendering of a NodeSnapshot into metric families, one function per
// concern. No I/O: everything comes from the snapshot (and, for the exporter's
// own health, from the error counts passed in).
#pragma once

#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <vector>

#include "exporter/model/process_stats.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

using Families = std::vector<prometheus::MetricFamily>;

// A run of a snapshot's sandboxes (its vector's elements first..last).
struct SandboxRange {
  const SandboxSnapshot* first = nullptr;
  const SandboxSnapshot* last = nullptr;

  static SandboxRange All(const NodeSnapshot& snap) {
    return {snap.sandboxes.data(), snap.sandboxes.data() + snap.sandboxes.size()};
  }
  const SandboxSnapshot* begin() const { return first; }
  const SandboxSnapshot* end() const { return last; }
};

// Sandbox/container identity, platform and in-sandbox usage.
void RenderSandboxes(const NodeSnapshot& snap, Families* out);
// Host processes, host cgroup and overhead.
void RenderHostCost(const NodeSnapshot& snap, Families* out);
// Syscall statistics of sandboxes with a trace session, and packet counts.
void RenderSyscalls(const NodeSnapshot& snap, Families* out);
// Pods from the CRI runtime, their RuntimeClass and the sandboxing policy.
void RenderPods(const NodeSnapshot& snap, Families* out);
// RuntimeClasses from the Kubernetes API and whether it answers.
void RenderKube(const NodeSnapshot& snap, Families* out);
// Node-level facts: sandboxes per root, runsc version, KVM.
void RenderNode(const NodeSnapshot& snap, Families* out);

// The per-sandbox renderers over some of the sandboxes: RenderSandboxes,
// RenderHostCost and RenderSyscalls are these over all of them (then, for
// RenderSyscalls, RenderTracePackets). Each family's samples are added
// sandbox by sandbox, so rendering consecutive ranges and concatenating each
// family's samples gives the samples of the whole. With `keep_empty`, a
// family without samples is emitted too (empty), so that every call emits the
// same families in the same order; without, it is left out, as always.
void RenderSandboxes(SandboxRange sandboxes, bool keep_empty, Families* out);
void RenderHostCost(SandboxRange sandboxes, bool keep_empty, Families* out);
void RenderSandboxSyscalls(SandboxRange sandboxes, bool keep_empty, Families* out);
// The node-level part of RenderSyscalls: trace packet counts.
void RenderTracePackets(const NodeSnapshot& snap, Families* out);

struct ExporterHealth {
  std::map<std::pair<std::string, std::string>, uint64_t> error_counts;
  uint64_t suppressed_logs = 0;
  double now_seconds = 0;  // wall clock at scrape time, for the snapshot age
  // The exporter's process_* metrics, read at scrape time; unset: none.
  std::optional<ProcessStats> process;
};
// The exporter's own health: build info, per-source success/duration, errors.
// `snap` may be null before the first poll.
void RenderExporter(const NodeSnapshot* snap, const ExporterHealth& health, Families* out);
// The process_* families of what `process` has (a family per set value).
void RenderProcess(const ProcessStats& process, Families* out);

// Label values identifying a sandbox: namespace, pod, sandbox_id.
std::vector<std::string> SandboxLabels(const SandboxInfo& info);

}  // namespace gvisor_exporter
