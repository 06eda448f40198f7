#include "exporter/poller/worker_pool.h"

#include <algorithm>

namespace gvisor_exporter {

WorkerPool::WorkerPool(size_t helpers) {
  threads_.reserve(helpers);
  for (size_t i = 0; i < helpers; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Loop(size_t index) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    // Helpers 0..active_-1 take part in a generation; the others sit it out.
    start_.wait(lock, [&] { return stop_ || (generation_ != seen && index < active_); });
    if (stop_) return;
    seen = generation_;
    const std::function<void()>* job = job_;
    lock.unlock();
    (*job)();
    lock.lock();
    if (--running_ == 0) done_.notify_one();
  }
}

void WorkerPool::Run(size_t wanted, const std::function<void()>& job) {
  const size_t helpers = std::min(threads_.size(), wanted > 0 ? wanted - 1 : 0);
  if (helpers > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &job;
    active_ = helpers;
    running_ = helpers;
    ++generation_;
  }
  if (helpers > 0) start_.notify_all();
  job();  // the caller is a worker too
  if (helpers == 0) return;
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return running_ == 0; });
  job_ = nullptr;
}

}  // namespace gvisor_exporter
