#include <map>

#include "exporter/collectors/family_builder.h"
#include "exporter/collectors/render.h"
#include "exporter/common/version.h"

namespace gvisor_exporter {

void RenderNode(const NodeSnapshot& snap, Families* out) {
  using namespace metric;  // NOLINT(google-build-using-namespace)
  FamilyBuilder sandboxes(kSandboxes), runsc(kRunscInfo), kvm_present(kKvmDevicePresent),
      kvm_usable(kKvmUsable);
  // Every existing root gets a series, 0 included, so an emptied root reads 0
  // rather than vanishing.
  std::map<std::string, uint64_t> per_root;
  for (const std::string& r : snap.roots) per_root[r] = 0;
  for (const SandboxSnapshot& s : snap.sandboxes) ++per_root[s.info.root];
  for (const auto& [root, n] : per_root) sandboxes.Add({root}, static_cast<double>(n));
  runsc.Add({snap.node.runsc_version}, 1);
  kvm_present.Add({}, snap.node.kvm_device_present ? 1 : 0);
  kvm_usable.Add({}, snap.node.kvm_usable ? 1 : 0);
  for (FamilyBuilder* f : {&sandboxes, &runsc, &kvm_present, &kvm_usable}) f->MoveTo(out);
}

void RenderExporter(const NodeSnapshot* snap, const ExporterHealth& health, Families* out) {
  using namespace metric;  // NOLINT(google-build-using-namespace)
  FamilyBuilder build(kBuildInfo), success(kCollectorSuccess), duration(kCollectorDuration),
      age(kSnapshotAge), poll(kPollDuration), polls(kPolls), errors(kErrors),
      suppressed(kSuppressedLogs);
  build.Add({kVersion, "gcc " __VERSION__}, 1);
  if (snap != nullptr) {
    for (const auto& [name, h] : snap->sources) {
      success.Add({name}, h.success ? 1 : 0);
      duration.Add({name}, h.duration_seconds);
    }
    age.Add({}, std::max(0.0, health.now_seconds - snap->timestamp_seconds));
    poll.Add({}, snap->poll_duration_seconds);
    polls.Add({}, static_cast<double>(snap->poll_count));
  } else {
    polls.Add({}, 0);
  }
  for (const auto& [key, n] : health.error_counts) {
    errors.Add({key.first, key.second}, static_cast<double>(n));
  }
  suppressed.Add({}, static_cast<double>(health.suppressed_logs));
  for (FamilyBuilder* f :
       {&build, &success, &duration, &age, &poll, &polls, &errors, &suppressed}) {
    f->MoveTo(out);
  }
  if (health.process) RenderProcess(*health.process, out);
}

void RenderProcess(const ProcessStats& process, Families* out) {
  using namespace metric;  // NOLINT(google-build-using-namespace)
  const std::pair<const MetricDef*, std::optional<double>> values[] = {
      {&kProcessCpu, process.cpu_seconds},
      {&kProcessOpenFds, process.open_fds},
      {&kProcessMaxFds, process.max_fds},
      {&kProcessVirtualMemory, process.virtual_memory_bytes},
      {&kProcessVirtualMemoryMax, process.virtual_memory_max_bytes},
      {&kProcessResidentMemory, process.resident_memory_bytes},
      {&kProcessStartTime, process.start_time_seconds}};
  for (const auto& [def, value] : values) {
    if (!value) continue;
    FamilyBuilder family(*def);
    family.Add({}, *value);
    family.MoveTo(out);
  }
}

}  // namespace gvisor_exporter
