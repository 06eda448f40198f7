// The one contract every source implements.
//
// A poll builds one NodeSnapshot by running the registered sources in their
// registration order (exporter/app/source_list.cc). Each source reads its own
// inputs and writes its part of the snapshot; it may read what the sources
// before it wrote (the CRI source names pods with the RuntimeClasses that the
// Kubernetes source put there). The first source discovers the sandboxes.
// Sources never render and never see a scrape: the published snapshot is
// immutable, and the collectors render it.
//
// Per-sandbox reads go through Poll::ForEachSandbox, which runs them on the
// poll's workers so that a sandbox whose socket hangs (bounded by the source's
// own timeout) delays only one worker. Health is kept per collector name (the
// `collector` label of gvisor_exporter_collector_success): SandboxPoll::Read
// and Poll::Time fold each read's outcome and duration into it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "exporter/common/error_reporter.h"
#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

// One sandbox during a ForEachSandbox pass, on one worker.
class SandboxPoll {
 public:
  SandboxPoll(SandboxSnapshot* sandbox, std::map<std::string, SourceHealth>* health,
              ErrorReporter* errors)
      : sandbox_(sandbox), health_(health), errors_(errors) {}

  SandboxSnapshot& sandbox() { return *sandbox_; }
  const SandboxInfo& info() const { return sandbox_->info; }

  // Runs `read` (returning a StatusOr) as one read of `collector`: its time is
  // added to the collector's duration, an error is reported (with the
  // sandbox id) and, unless it is kNotFound (the sandbox went away, which is
  // routine), marks the collector failed for this poll.
  template <typename F>
  auto Read(std::string_view collector, F&& read) {
    const auto t0 = std::chrono::steady_clock::now();
    auto result = read();
    Fold(collector, t0, result.ok() ? Status::Ok() : result.status());
    return result;
  }

  // The sandbox is gone (its sentry exited since discovery): it is dropped
  // from the snapshot before the next source runs, so nothing half-read of it
  // is served.
  void MarkGone() { sandbox_->info.pid = 0; }

 private:
  void Fold(std::string_view collector, std::chrono::steady_clock::time_point t0,
            const Status& status);

  SandboxSnapshot* sandbox_;
  std::map<std::string, SourceHealth>* health_;
  ErrorReporter* errors_;
};

// What a source sees during one poll.
class Poll {
 public:
  virtual ~Poll() = default;

  // The snapshot being built (published when every source has run).
  virtual NodeSnapshot& snapshot() = 0;
  virtual ErrorReporter& errors() = 0;
  // Polls completed before this one (0: this is the first).
  virtual uint64_t completed_polls() const = 0;

  // Runs `read` once per sandbox of the snapshot, on the poll's workers, and
  // returns when all are done. Its time is added to each sandbox's
  // poll_duration_seconds. `read` must only touch its own sandbox and the
  // source's own thread-safe state.
  virtual void ForEachSandbox(const std::function<void(SandboxPoll&)>& read) = 0;

  // Runs `read` (returning whether it succeeded) as one node-wide read of
  // `collector`, on the poll thread, and folds its outcome and time in.
  void Time(std::string_view collector, const std::function<bool()>& read);

  // The keys (SandboxKey) of the snapshot's sandboxes not marked gone:
  // sources that keep per-sandbox state forget the others.
  std::set<std::string> LiveKeys();
};

class Source {
 public:
  virtual ~Source() = default;
  // Reads this source's inputs once and writes them into poll.snapshot().
  virtual void Read(Poll& poll) = 0;
  // At exporter shutdown, after the last poll: undo what the source set up
  // outside the exporter (e.g. trace sessions in sandboxes).
  virtual void Shutdown() {}
};

}  // namespace gvisor_exporter
