// What is served at the telemetry path: the current NodeSnapshot rendered as
// metrics. It never does I/O and never waits on a poll, so a scrape costs the
// same whatever the sandboxes are doing.
//
// A snapshot is immutable, so its metrics are a pure function of it: they are
// rendered to text once per snapshot (Prepare(), called by the poller right
// after it publishes one) and every scrape of that snapshot serves that text
// as a shared piece of the response, without copying it (ExpositionBody).
// Only the exporter's own health (snapshot age, error counts, process_*
// metrics) is rendered per scrape. At 200 sandboxes this takes a ~8-30 ms render off the scrape
// path (it moves to the poll), and no scrape makes a multi-megabyte copy of the text (each HTTP
// worker thread's malloc arena used to keep one). The render writes each family
// straight from its metric row into the text (metric_catalog.h), into a buffer
// sized from the previous snapshot's text, so it needs little beyond the text.
//
// Prometheus asks for gzip. The snapshot's text is compressed once per
// snapshot too (a raw deflate stream that a gzip member can continue, see
// exposition_body.h) and cached beside the text; a gzip scrape compresses
// only the health. Compressing costs the poll thread CPU, so Prepare() does
// it only once a gzip scrape has been seen; until then, the first gzip scrape
// of a snapshot compresses it (once) itself.
#pragma once

#include <prometheus/collectable.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "exporter/collectors/exposition_body.h"
#include "exporter/collectors/metric_catalog.h"
#include "exporter/common/error_reporter.h"
#include "exporter/model/process_stats.h"
#include "exporter/model/snapshot_store.h"

namespace gvisor_exporter {

class SnapshotCollector : public prometheus::Collectable, public Exposition {
 public:
  // zlib level of the cached snapshot text. Measured on 7.5 MB (200
  // sandboxes, syscall statistics on): level 1 takes ~21 ms of the poll
  // thread for 698 KB, level 6 ~49 ms for 614 KB; 14% more bytes on a
  // loopback or cluster network cost less than doubling the poll's CPU.
  static constexpr int kGzipLevel = 1;

  // Reads the exporter's process_* metrics; called at every scrape (it must
  // be cheap and never block), so process_cpu_seconds_total is current.
  using ProcessStatsSource = std::function<ProcessStats()>;

  // Without `process`, no process_* metrics (tests want stable bytes).
  SnapshotCollector(const SnapshotStore* store, const ErrorReporter* errors,
                    ProcessStatsSource process = nullptr)
      : store_(store), errors_(errors), process_(std::move(process)) {}

  // All families (prometheus-cpp interface; tests and other registries).
  std::vector<prometheus::MetricFamily> Collect() const override;

  // The text exposition of the current snapshot (cached per snapshot) plus
  // the exporter's health, appended to `out` (a copy: for tests and tools).
  void AppendExposition(std::string* out) const;
  // The same added to `body` as pieces: the cached text (with gzip, its cached
  // compressed form) shared, not copied, then the health.
  void AppendExposition(ExpositionBody* body) const;
  // The exposition alone as a finished body (identity or one gzip member).
  void ExpositionParts(bool gzip, BodyPieces* out) const override;

  // Renders the current snapshot's text now if it is not cached yet, and
  // compresses it if a gzip scrape has been seen.
  void Prepare() const;

  // How many times a snapshot text was compressed (tests, benchmarks).
  uint64_t compressions() const { return compressions_.load(); }

 private:
  struct Cached;
  // The cache entry of `snap`: its text, rendered if needed, and with `gzip`
  // its compressed text, compressed if needed.
  std::shared_ptr<const Cached> Entry(const std::shared_ptr<const NodeSnapshot>& snap,
                                      bool gzip) const;
  // `entry` if `snap` is cached with what `gzip` needs; else null.
  std::shared_ptr<const Cached> Lookup(const std::shared_ptr<const NodeSnapshot>& snap,
                                       bool gzip) const;
  // Caches `entry` unless a newer snapshot (or the same one, compressed) is
  // cached; returns what to serve for entry's snapshot.
  std::shared_ptr<const Cached> Install(std::shared_ptr<const Cached> entry) const;
  // The exporter's health now.
  ExporterHealth Health() const;

  const SnapshotStore* store_;
  const ErrorReporter* errors_;
  const ProcessStatsSource process_;
  mutable std::mutex mu_;  // guards cached_
  mutable std::shared_ptr<const Cached> cached_;
  // Held while compressing, so that scrapes that find the current snapshot
  // not compressed yet wait for one compression instead of each doing it.
  mutable std::mutex compress_mu_;
  mutable std::atomic<bool> gzip_seen_{false};
  mutable std::atomic<uint64_t> compressions_{0};
  // Size of the last rendered text: the next one's buffer is sized from it.
  mutable std::atomic<size_t> last_text_size_{0};
};

}  // namespace gvisor_exporter
