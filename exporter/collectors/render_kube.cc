#include "exporter/collectors/family_builder.h"
#include "exporter/collectors/render.h"

namespace gvisor_exporter {

void RenderKube(const NodeSnapshot& snap, Families* out) {
  using namespace metric;  // NOLINT(google-build-using-namespace)
  if (!snap.kube) return;  // --kubernetes.api=off
  const KubeState& kube = *snap.kube;
  FamilyBuilder up(kKubernetesApiUp), info(kRuntimeClassInfo), memory(kRuntimeClassOverheadMemory),
      cpu(kRuntimeClassOverheadCpu);
  up.Add({}, kube.up ? 1 : 0);
  if (kube.runtime_classes) {
    for (const RuntimeClassInfo& c : *kube.runtime_classes) {
      info.Add({c.name, c.handler}, 1);
      if (c.overhead_memory_bytes)
        memory.Add({c.name}, static_cast<double>(*c.overhead_memory_bytes));
      if (c.overhead_cpu_cores) cpu.Add({c.name}, *c.overhead_cpu_cores);
    }
  }
  for (FamilyBuilder* f : {&up, &info, &memory, &cpu}) f->MoveTo(out);
}

}  // namespace gvisor_exporter
