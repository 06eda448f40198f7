// The prometheus-cpp Collectable served at the telemetry path: renders the
// current NodeSnapshot at scrape time. It never does I/O and never waits on a
// poll, so a scrape costs the same whatever the sandboxes are doing.
#pragma once

#include <prometheus/collectable.h>

#include <vector>

#include "exporter/common/error_reporter.h"
#include "exporter/model/snapshot_store.h"

namespace gvisor_exporter {

class SnapshotCollector : public prometheus::Collectable {
 public:
  SnapshotCollector(const SnapshotStore* store, const ErrorReporter* errors)
      : store_(store), errors_(errors) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const SnapshotStore* store_;
  const ErrorReporter* errors_;
};

}  // namespace gvisor_exporter
