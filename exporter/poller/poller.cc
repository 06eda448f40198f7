#include "exporter/poller/poller.h"

#include <algorithm>

namespace gvisor_exporter {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

// One poll: the snapshot being built, and the workers its sources fan out on.
class Poller::Round : public Poll {
 public:
  Round(Poller* poller, NodeSnapshot* snap) : poller_(poller), snap_(snap) {}

  NodeSnapshot& snapshot() override { return *snap_; }
  ErrorReporter& errors() override { return *poller_->errors_; }
  uint64_t completed_polls() const override { return poller_->polls_.load(); }

  void ForEachSandbox(const std::function<void(SandboxPoll&)>& read) override {
    // A fixed number of workers pull sandboxes from a shared index; each keeps
    // its health locally and merges it once.
    const size_t n = snap_->sandboxes.size();
    std::atomic<size_t> next{0};
    std::mutex health_mu;
    auto work = [&] {
      std::map<std::string, SourceHealth> local;
      for (size_t i = next++; i < n; i = next++) {
        SandboxSnapshot& s = snap_->sandboxes[i];
        const auto t0 = Clock::now();
        SandboxPoll sandbox(&s, &local, poller_->errors_);
        read(sandbox);
        s.poll_duration_seconds += SecondsSince(t0);
      }
      std::lock_guard<std::mutex> lock(health_mu);
      for (const auto& [name, h] : local) {
        SourceHealth& t = snap_->sources[name];
        t.success = t.success && h.success;
        t.duration_seconds += h.duration_seconds;
      }
    };
    poller_->workers_.Run(std::min<size_t>(std::max(1, poller_->options_.concurrency), n), work);
  }

  // Sandboxes a source marked gone are dropped before the next one runs.
  void DropGone() {
    std::erase_if(snap_->sandboxes, [](const SandboxSnapshot& s) { return s.info.pid == 0; });
  }

 private:
  Poller* poller_;
  NodeSnapshot* snap_;
};

Poller::Poller(PollerOptions options, Sources sources, SnapshotStore* store, ErrorReporter* errors)
    : options_(std::move(options)),
      sources_(std::move(sources)),
      store_(store),
      errors_(errors),
      workers_(static_cast<size_t>(std::max(1, options_.concurrency)) - 1) {}

Poller::~Poller() { Stop(); }

void Poller::PollOnce() {
  const auto t0 = Clock::now();
  auto snap = std::make_shared<NodeSnapshot>();
  Round round(this, snap.get());
  for (const auto& source : sources_) {
    source->Read(round);
    round.DropGone();
  }
  snap->poll_count = ++polls_;
  snap->poll_duration_seconds = SecondsSince(t0);
  snap->timestamp_seconds = WallNow();
  store_->Publish(std::move(snap));
  if (options_.after_publish) options_.after_publish();
}

void Poller::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      const auto start = Clock::now();
      PollOnce();
      lock.lock();
      // Fixed-rate ticks; a poll longer than the interval starts the next at once.
      cv_.wait_until(lock, start + options_.interval, [this] { return stop_; });
    }
  });
}

void Poller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!shut_down_) {
    for (const auto& source : sources_) source->Shutdown();
  }
  shut_down_ = true;
}

}  // namespace gvisor_exporter
