// Holds the latest NodeSnapshot. The poller publishes a new immutable snapshot
// after every poll; scrapes take a shared_ptr to whatever is current, so a
// scrape never waits for a poll and never sees a half-built picture.
#pragma once

#include <memory>
#include <mutex>

#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

class SnapshotStore {
 public:
  void Publish(std::shared_ptr<const NodeSnapshot> snapshot) {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(snapshot);
  }
  // nullptr until the first poll finished.
  std::shared_ptr<const NodeSnapshot> Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const NodeSnapshot> current_;
};

}  // namespace gvisor_exporter
