#include "exporter/collectors/snapshot_collector.h"

#include <chrono>

#include "exporter/collectors/render.h"
#include "exporter/collectors/text_format.h"

namespace gvisor_exporter {

namespace {

void RenderSnapshot(const NodeSnapshot& snap, Families* out) {
  RenderSandboxes(snap, out);
  RenderHostCost(snap, out);
  RenderSyscalls(snap, out);
  RenderPods(snap, out);
  RenderKube(snap, out);
  RenderNode(snap, out);
}

}  // namespace

std::vector<prometheus::MetricFamily> SnapshotCollector::HealthFamilies(
    const NodeSnapshot* snap) const {
  std::vector<prometheus::MetricFamily> out;
  ExporterHealth health;
  health.error_counts = errors_->Counts();
  health.suppressed_logs = errors_->suppressed_logs();
  health.now_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  RenderExporter(snap, health, &out);
  return out;
}

std::vector<prometheus::MetricFamily> SnapshotCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::shared_ptr<const NodeSnapshot> snap = store_->Get();
  if (snap) RenderSnapshot(*snap, &out);
  auto health = HealthFamilies(snap.get());
  out.insert(out.end(), std::make_move_iterator(health.begin()),
             std::make_move_iterator(health.end()));
  return out;
}

std::shared_ptr<const std::string> SnapshotCollector::SnapshotText(
    const std::shared_ptr<const NodeSnapshot>& snap) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_snapshot_ == snap && cached_text_) return cached_text_;
  }
  // Rendered outside the lock: concurrent scrapes of a new snapshot may both
  // render it (same bytes); neither waits for the other.
  auto text = std::make_shared<std::string>();
  if (snap) {
    Families families;
    RenderSnapshot(*snap, &families);
    AppendTextFormat(families, text.get());
  }
  std::lock_guard<std::mutex> lock(mu_);
  // Never replace a newer snapshot's text with an older one's.
  if (!cached_snapshot_ || !snap || cached_snapshot_->poll_count <= snap->poll_count) {
    cached_snapshot_ = snap;
    cached_text_ = text;
  }
  return text;
}

void SnapshotCollector::AppendExposition(std::string* out) const {
  std::shared_ptr<const NodeSnapshot> snap = store_->Get();
  std::shared_ptr<const std::string> text = SnapshotText(snap);
  out->reserve(out->size() + text->size() + 8192);
  out->append(*text);
  AppendTextFormat(HealthFamilies(snap.get()), out);
}

void SnapshotCollector::Prepare() const { SnapshotText(store_->Get()); }

}  // namespace gvisor_exporter
