// A fixed set of threads that run one job together, again and again.
//
// Why: a poll reads its sandboxes with --poll.concurrency workers. Starting
// and joining those threads on every poll cost ~8 system calls each (clone3,
// rseq, robust list, signal masks, stack madvise, exit, join), a fixed cost
// that a steady poll should not pay; parked workers cost a futex wake and a
// futex wait per poll.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gvisor_exporter {

class WorkerPool {
 public:
  // `helpers` threads besides the caller of Run (0: Run runs the job alone).
  explicit WorkerPool(size_t helpers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `job` on min(helpers, wanted - 1) helper threads and on the calling
  // thread, and returns when every one of them has returned from it. One Run
  // at a time.
  void Run(size_t wanted, const std::function<void()>& job);

  size_t helpers() const { return threads_.size(); }

 private:
  void Loop(size_t index);

  std::mutex mu_;
  std::condition_variable start_, done_;
  const std::function<void()>* job_ = nullptr;
  uint64_t generation_ = 0;  // one per Run
  size_t active_ = 0;        // helpers asked to run this generation
  size_t running_ = 0;       // of those, not yet finished
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gvisor_exporter
