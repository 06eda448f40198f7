// The poller: on every tick it runs the registered sources in order (see
// exporter/model/source.h) on one new NodeSnapshot and publishes it. It knows
// nothing of what the sources read: no source types, no joins. Per-sandbox
// reads run on a small fixed pool of workers; nothing here is ever on a
// scrape's path.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "exporter/common/error_reporter.h"
#include "exporter/model/snapshot_store.h"
#include "exporter/model/source.h"
#include "exporter/poller/worker_pool.h"

namespace gvisor_exporter {

struct PollerOptions {
  std::chrono::milliseconds interval{5000};
  int concurrency = 4;  // sandboxes read in parallel
  // Called on the poll thread right after each snapshot is published (the
  // collector pre-renders it there, off the scrape path).
  std::function<void()> after_publish;
};

using Sources = std::vector<std::unique_ptr<Source>>;

class Poller {
 public:
  Poller(PollerOptions options, Sources sources, SnapshotStore* store, ErrorReporter* errors);
  ~Poller();

  // Runs one full poll synchronously and publishes its snapshot.
  void PollOnce();
  // Polls every interval on a background thread until Stop().
  void Start();
  // Stops polling and shuts the sources down (e.g. removes our trace sessions).
  void Stop();

  // Polls completed so far.
  uint64_t polls() const { return polls_.load(); }

 private:
  class Round;

  PollerOptions options_;
  Sources sources_;
  SnapshotStore* store_;
  ErrorReporter* errors_;
  std::atomic<uint64_t> polls_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool shut_down_ = false;
  std::thread thread_;
  WorkerPool workers_;  // concurrency - 1 helpers; the poll thread is a worker too
};

}  // namespace gvisor_exporter
