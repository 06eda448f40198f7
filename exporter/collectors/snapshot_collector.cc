#include "exporter/collectors/snapshot_collector.h"

#include <chrono>

#include "exporter/collectors/render.h"

namespace gvisor_exporter {

std::vector<prometheus::MetricFamily> SnapshotCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::shared_ptr<const NodeSnapshot> snap = store_->Get();
  if (snap) {
    RenderSandboxes(*snap, &out);
    RenderHostCost(*snap, &out);
    RenderSyscalls(*snap, &out);
    RenderPods(*snap, &out);
    RenderNode(*snap, &out);
  }
  ExporterHealth health;
  health.error_counts = errors_->Counts();
  health.suppressed_logs = errors_->suppressed_logs();
  health.now_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  RenderExporter(snap.get(), health, &out);
  return out;
}

}  // namespace gvisor_exporter
