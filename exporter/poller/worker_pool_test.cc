#include "exporter/poller/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace gvisor_exporter {
namespace {

TEST(WorkerPoolTest, EveryRunUsesTheWantedThreadsAndWaitsForThem) {
  WorkerPool pool(3);
  for (size_t wanted : {1u, 2u, 4u, 9u, 0u, 3u}) {
    std::mutex mu;
    std::set<std::thread::id> ran;
    std::atomic<int> calls{0};
    pool.Run(wanted, [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // overlap the threads
      std::lock_guard<std::mutex> lock(mu);
      ran.insert(std::this_thread::get_id());
      ++calls;
    });
    // Returned only after every participant finished.
    const size_t want = std::max<size_t>(1, std::min<size_t>(wanted, 4));
    EXPECT_EQ(calls.load(), static_cast<int>(want)) << wanted;
    EXPECT_EQ(ran.size(), want) << wanted;
    EXPECT_TRUE(ran.count(std::this_thread::get_id())) << "the caller works too";
  }
}

TEST(WorkerPoolTest, SharesWorkLikeThePoller) {
  WorkerPool pool(3);
  for (int round = 0; round < 200; ++round) {
    std::atomic<size_t> next{0};
    std::vector<int> done(50, 0);
    pool.Run(4, [&] {
      for (size_t i = next++; i < done.size(); i = next++) ++done[i];
    });
    for (int d : done) ASSERT_EQ(d, 1) << round;
  }
}

TEST(WorkerPoolTest, NoHelpersRunsOnTheCaller) {
  WorkerPool pool(0);
  int calls = 0;
  pool.Run(4, [&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace gvisor_exporter
