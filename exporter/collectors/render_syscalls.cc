#include <map>

#include "exporter/collectors/family_builder.h"
#include "exporter/collectors/render.h"
#include "exporter/collectors/render_internal.h"

namespace gvisor_exporter {

namespace {

// The container label of a traced container id: the CRI name of a container
// the state directory knows ("" for the pause container), else the id itself
// (a container that started after the last discovery).
std::string ContainerLabel(const SandboxInfo& info, const std::string& id) {
  for (const ContainerInfo& c : info.containers) {
    if (c.id == id) return c.name;
  }
  return id;
}

// Sums samples with equal label values (two ids may map to one label) and
// adds them in label order.
class Summed {
 public:
  void Add(std::vector<std::string> labels, uint64_t v) { sums_[std::move(labels)] += v; }
  void MoveTo(FamilyBuilder* f) {
    for (const auto& [labels, v] : sums_) f->Add(labels, static_cast<double>(v));
  }

 private:
  std::map<std::vector<std::string>, uint64_t> sums_;
};

}  // namespace

void RenderSyscalls(const NodeSnapshot& snap, Families* out) {
  RenderSandboxSyscalls(SandboxRange::All(snap), false, out);
  RenderTracePackets(snap, out);
}

void RenderSandboxSyscalls(SandboxRange sandboxes, bool keep_empty, Families* out) {
  using namespace metric;  // NOLINT(google-build-using-namespace)
  RangeFamilyBuilder calls(kContainerSyscalls), errors(kContainerSyscallErrors),
      enosys(kContainerSyscallsUnimplemented), sampled_calls(kContainerSyscallsSampled),
      sampled_errors(kContainerSyscallErrorsSampled),
      sampled_enosys(kContainerSyscallsUnimplementedSampled), traced(kSyscallTracedSeconds),
      dropped(kSyscallEventsDropped), state(kSyscallSessionState);
  for (const SandboxSnapshot& s : sandboxes) {
    if (!s.syscalls) continue;
    const SandboxSyscalls& sc = *s.syscalls;
    const auto l = SandboxLabels(s.info);
    for (TraceSessionState st : {TraceSessionState::kActive, TraceSessionState::kForeign,
                                 TraceSessionState::kError, TraceSessionState::kPaused}) {
      if (st == TraceSessionState::kPaused && !sc.sampled) continue;
      state.Add(With(l, {sc.mode, TraceSessionStateName(st)}), st == sc.state ? 1 : 0);
    }
    if (sc.sampled) traced.Add(l, sc.traced_seconds);
    if (sc.state != TraceSessionState::kActive && sc.containers.empty()) continue;
    dropped.Add(l, static_cast<double>(sc.dropped_events));
    Summed c, e, u;
    for (const ContainerSyscalls& cs : sc.containers) {
      const std::string name = ContainerLabel(s.info, cs.container_id);
      for (const auto& [sys, n] : cs.calls) c.Add(With(l, {name, sys}), n);
      for (const auto& err : cs.errors)
        e.Add(With(l, {name, err.syscall, err.errno_name}), err.count);
      for (const auto& [sys, n] : cs.unimplemented) u.Add(With(l, {name, sys}), n);
    }
    // Sampled counts never go out under the exact names.
    c.MoveTo(sc.sampled ? &sampled_calls : &calls);
    e.MoveTo(sc.sampled ? &sampled_errors : &errors);
    u.MoveTo(sc.sampled ? &sampled_enosys : &enosys);
  }
  for (RangeFamilyBuilder* f : {&calls, &errors, &enosys, &sampled_calls, &sampled_errors,
                                &sampled_enosys, &traced, &dropped, &state}) {
    f->MoveTo(out, keep_empty);
  }
}

void RenderTracePackets(const NodeSnapshot& snap, Families* out) {
  FamilyBuilder packets(metric::kTracePackets);
  if (snap.trace_packets) {
    const TracePacketCounts& p = *snap.trace_packets;
    const std::pair<const char*, uint64_t> results[] = {
        {"syscall", p.syscall},     {"ignored", p.ignored},     {"unknown_type", p.unknown_type},
        {"malformed", p.malformed}, {"truncated", p.truncated}, {"invalid_sysno", p.invalid_sysno},
        {"handshake", p.handshake}};
    for (const auto& [r, v] : results) packets.Add({r}, static_cast<double>(v));
  }
  packets.MoveTo(out);
}

}  // namespace gvisor_exporter
