// RuntimeClasses from the Kubernetes API and whether it answers (absent with
// --kubernetes.api=off).
#include "exporter/collectors/metric_catalog.h"

namespace gvisor_exporter {

namespace {

// Calls emit(class) for each RuntimeClass of the last good list.
template <typename Emit>
void ForEachClass(const NodeSnapshot& snap, const Emit& emit) {
  if (!snap.kube || !snap.kube->runtime_classes) return;
  for (const RuntimeClassInfo& c : *snap.kube->runtime_classes) emit(c);
}

const MetricRow kRows[] = {
    {.name = "gvisor_kubernetes_api_up",
     .type = MetricType::Gauge,
     .help =
         "1 when the last request for RuntimeClasses to the Kubernetes API (--kubernetes.api) "
         "succeeded, 0 when it failed (the last good list is kept meanwhile; reasons in "
         "gvisor_exporter_errors_total{source=\"kubernetes\"}). Absent with --kubernetes.api=off.",
     .labels = {},
     .group = "Kubernetes API",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           if (snap.kube) w.Add({}, snap.kube->up ? 1 : 0);
         }},
    {.name = "gvisor_runtimeclass_info",
     .type = MetricType::Gauge,
     .help =
         "Always 1: one series per node.k8s.io/v1 RuntimeClass the Kubernetes API listed (the last "
         "good list), with its handler. While the list is available it names pods' runtime_class "
         "instead of --runtime.classes.",
     .labels = {"runtime_class", "handler"},
     .group = "Kubernetes API",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           ForEachClass(snap, [&](const RuntimeClassInfo& c) { w.Add({c.name, c.handler}, 1); });
         }},
    {.name = "gvisor_runtimeclass_overhead_memory_bytes",
     .type = MetricType::Gauge,
     .help =
         "The RuntimeClass's declared overhead.podFixed memory (what the scheduler adds to each "
         "pod's requests); absent when not declared. Compare with "
         "gvisor_sandbox_memory_overhead_bytes.",
     .labels = {"runtime_class"},
     .group = "Kubernetes API",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           ForEachClass(snap, [&](const RuntimeClassInfo& c) {
             if (c.overhead_memory_bytes)
               w.Add({c.name}, static_cast<double>(*c.overhead_memory_bytes));
           });
         }},
    {.name = "gvisor_runtimeclass_overhead_cpu_cores",
     .type = MetricType::Gauge,
     .help =
         "The RuntimeClass's declared overhead.podFixed CPU in cores; absent when not declared.",
     .labels = {"runtime_class"},
     .group = "Kubernetes API",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           ForEachClass(snap, [&](const RuntimeClassInfo& c) {
             if (c.overhead_cpu_cores) w.Add({c.name}, *c.overhead_cpu_cores);
           });
         }},
};

}  // namespace

std::span<const MetricRow> KubeMetrics() { return kRows; }

}  // namespace gvisor_exporter
