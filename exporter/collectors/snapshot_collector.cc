#include "exporter/collectors/snapshot_collector.h"

#include <chrono>

namespace gvisor_exporter {

ExporterHealth SnapshotCollector::Health() const {
  ExporterHealth health;
  health.error_counts = errors_->Counts();
  health.suppressed_logs = errors_->suppressed_logs();
  health.now_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (process_) health.process = process_();
  return health;
}

std::vector<prometheus::MetricFamily> SnapshotCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  std::shared_ptr<const NodeSnapshot> snap = store_->Get();
  if (snap) SnapshotFamilies(*snap, &out);
  HealthFamilies(snap.get(), Health(), &out);
  return out;
}

struct SnapshotCollector::Cached {
  std::shared_ptr<const NodeSnapshot> snapshot;
  std::shared_ptr<const std::string> text;
  std::shared_ptr<const DeflatedText> deflated;  // null until compressed
};

std::shared_ptr<const SnapshotCollector::Cached> SnapshotCollector::Lookup(
    const std::shared_ptr<const NodeSnapshot>& snap, bool gzip) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && cached_->snapshot == snap && (!gzip || cached_->deflated)) return cached_;
  return nullptr;
}

std::shared_ptr<const SnapshotCollector::Cached> SnapshotCollector::Install(
    std::shared_ptr<const Cached> entry) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && cached_->snapshot == entry->snapshot) {
    // Same snapshot (same bytes): keep whichever has more.
    if (cached_->deflated || !entry->deflated) return cached_;
    cached_ = entry;
    return entry;
  }
  // Never replace a newer snapshot's text with an older one's.
  if (!cached_ || !cached_->snapshot || !entry->snapshot ||
      cached_->snapshot->poll_count <= entry->snapshot->poll_count) {
    cached_ = entry;
  }
  return entry;
}

std::shared_ptr<const SnapshotCollector::Cached> SnapshotCollector::Entry(
    const std::shared_ptr<const NodeSnapshot>& snap, bool gzip) const {
  std::shared_ptr<const Cached> entry = Lookup(snap, false);
  if (!entry) {
    // Rendered outside the lock: concurrent scrapes of a new snapshot may
    // both render it (same bytes); neither waits for the other.
    auto text = std::make_shared<std::string>();
    if (snap) {
      // Snapshots of a node change little from poll to poll: sized from the
      // last text (and a little more), the buffer is rarely regrown, which
      // would hold the old and the new buffer at once.
      const size_t last = last_text_size_.load(std::memory_order_relaxed);
      if (last > 0) text->reserve(last + last / 16);
      AppendSnapshotText(*snap, text.get());
      last_text_size_.store(text->size(), std::memory_order_relaxed);
    }
    entry = Install(std::make_shared<const Cached>(Cached{snap, std::move(text), nullptr}));
  }
  if (!gzip || entry->deflated) return entry;
  // Compressed outside mu_ too (scrapes of a compressed or identity snapshot
  // go on), but once: a second gzip scrape of the same snapshot waits here
  // for the first one's result rather than compressing it again.
  std::lock_guard<std::mutex> lock(compress_mu_);
  if (auto done = Lookup(snap, true)) return done;
  auto deflated = std::make_shared<const DeflatedText>(DeflateText(*entry->text, kGzipLevel));
  compressions_.fetch_add(1, std::memory_order_relaxed);
  return Install(std::make_shared<const Cached>(Cached{snap, entry->text, std::move(deflated)}));
}

void SnapshotCollector::AppendExposition(std::string* out) const {
  std::shared_ptr<const NodeSnapshot> snap = store_->Get();
  std::shared_ptr<const Cached> entry = Entry(snap, false);
  out->reserve(out->size() + entry->text->size() + 8192);
  out->append(*entry->text);
  AppendHealthText(snap.get(), Health(), out);
}

void SnapshotCollector::AppendExposition(ExpositionBody* body) const {
  // From the first gzip scrape on, every poll compresses its snapshot.
  if (body->gzip()) gzip_seen_.store(true, std::memory_order_relaxed);
  std::shared_ptr<const NodeSnapshot> snap = store_->Get();
  std::shared_ptr<const Cached> entry = Entry(snap, body->gzip());
  body->AddShared(entry->text, entry->deflated);
  std::string health;
  AppendHealthText(snap.get(), Health(), &health);
  body->AddText(std::move(health));
}

void SnapshotCollector::ExpositionParts(bool gzip, BodyPieces* out) const {
  ExpositionBody body(gzip);
  AppendExposition(&body);
  BodyPieces pieces = body.Finish();
  out->insert(out->end(), std::make_move_iterator(pieces.begin()),
              std::make_move_iterator(pieces.end()));
}

void SnapshotCollector::Prepare() const {
  Entry(store_->Get(), gzip_seen_.load(std::memory_order_relaxed));
}

}  // namespace gvisor_exporter
