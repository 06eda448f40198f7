// TaskstatsClient against the real kernel: needs CAP_NET_ADMIN (root), so
// these are `real` tests (see CMakeLists.txt); the reply parsers are unit
// tested in taskstats_test.cc.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "exporter/sources/host/procfs.h"
#include "exporter/sources/host/taskstats.h"

namespace gvisor_exporter {
namespace {

// Ground truth: the per-thread status files of this very process.
TaskContextSwitches SumOverThreads() {
  TaskContextSwitches sum;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(entry.path() / "status");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    StatusOr<ProcStatus> st = ParseProcStatus(text);
    if (!st.ok() || !st->voluntary_ctxt_switches) continue;  // thread just exited
    sum.voluntary += *st->voluntary_ctxt_switches;
    sum.nonvoluntary += st->nonvoluntary_ctxt_switches.value_or(0);
  }
  return sum;
}

// Every thread this process ever had: the upper bound of a TGID answer (the
// lower bound is the live threads' sum; kernels differ in counting threads
// that exited, see taskstats.h).
TaskContextSwitches OwnLifetimeTotal() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return {static_cast<uint64_t>(ru.ru_nvcsw), static_cast<uint64_t>(ru.ru_nivcsw)};
}

// Needs CAP_NET_ADMIN (root in CI); skipped otherwise.
TEST(TaskstatsClientTest, SumsTheContextSwitchesOfEveryLiveThread) {
  StatusOr<std::unique_ptr<TaskstatsClient>> client = TaskstatsClient::Open();
  if (!client.ok()) GTEST_SKIP() << client.status().ToString();
  // Threads that each switch voluntarily many times, then park.
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&stop] {
      for (int j = 0; j < 200; ++j) ::usleep(50);
      while (!stop.load()) ::usleep(1000);
    });
  }
  ::usleep(100000);
  const TaskContextSwitches before = SumOverThreads();
  StatusOr<TaskContextSwitches> got = (*client)->Query(::getpid());
  const TaskContextSwitches after = OwnLifetimeTotal();
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_GE(got->voluntary, before.voluntary);
  EXPECT_LE(got->voluntary, after.voluntary);
  EXPECT_GE(got->voluntary, 800u);  // the threads' own usleep()s
  EXPECT_GE(got->nonvoluntary, before.nonvoluntary);
  EXPECT_LE(got->nonvoluntary, after.nonvoluntary);
}

TEST(TaskstatsClientTest, AGoneProcessIsNotFound) {
  StatusOr<std::unique_ptr<TaskstatsClient>> client = TaskstatsClient::Open();
  if (!client.ok()) GTEST_SKIP() << client.status().ToString();
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ((*client)->Query(child).status().reason(), Reason::kNotFound);
  EXPECT_EQ((*client)->Query(0).status().reason(), Reason::kInvalid);
  // The socket still answers after errors.
  EXPECT_TRUE((*client)->Query(::getpid()).ok());
}

TEST(TaskstatsClientTest, ManyQueriesInBatchesAnswerEachInOrder) {
  StatusOr<std::unique_ptr<TaskstatsClient>> client = TaskstatsClient::Open();
  if (!client.ok()) GTEST_SKIP() << client.status().ToString();
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ASSERT_GT(gone, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(gone, &status, 0), gone);
  // More than one batch; a gone process and a bad id in the middle.
  std::vector<int64_t> tgids(2 * TaskstatsClient::kMaxBatch + 3, ::getpid());
  tgids[5] = gone;
  tgids[TaskstatsClient::kMaxBatch] = -1;
  tgids.back() = 1;  // init: another process, other counters
  const TaskContextSwitches before = SumOverThreads();
  std::vector<StatusOr<TaskContextSwitches>> got = (*client)->QueryMany(tgids);
  const TaskContextSwitches after = OwnLifetimeTotal();
  ASSERT_EQ(got.size(), tgids.size());
  for (size_t i = 0; i + 1 < tgids.size(); ++i) {
    if (i == 5) {
      EXPECT_EQ(got[i].status().reason(), Reason::kNotFound);
    } else if (i == TaskstatsClient::kMaxBatch) {
      EXPECT_EQ(got[i].status().reason(), Reason::kInvalid);
    } else {
      ASSERT_TRUE(got[i].ok()) << i << ": " << got[i].status().ToString();
      EXPECT_GE(got[i]->voluntary, before.voluntary) << i;
      EXPECT_LE(got[i]->voluntary, after.voluntary) << i;
    }
  }
  StatusOr<TaskContextSwitches> init = (*client)->Query(1);
  ASSERT_TRUE(got.back().ok()) << got.back().status().ToString();
  ASSERT_TRUE(init.ok());
  EXPECT_LE(got.back()->voluntary, init->voluntary);
}

}  // namespace
}  // namespace gvisor_exporter
