#include "exporter/sources/runsc_state/state_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "exporter/sources/runsc_state/dir_listing.h"
#include "exporter/sources/runsc_state/test_util.h"

namespace gvisor_exporter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::LockFileName;
using testing::StateFileName;
using testing::TempDir;

class StateReaderTest : public ::testing::Test {
 protected:
  StateReaderTest() : root_(tmp_.MakeDir("root")) {
    testing::WriteState(root_, "pod1", "pod1", 10, 11);
    dir_ = UniqueFd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY));
  }
  std::string LockPath() const { return root_ + "/" + LockFileName("pod1", "pod1"); }
  std::string StatePath() const { return root_ + "/" + StateFileName("pod1", "pod1"); }

  TempDir tmp_;
  std::string root_;
  UniqueFd dir_;
  StateReadOptions options_;
};

TEST_F(StateReaderTest, ReadsUnderSharedLockAndReleasesIt) {
  WaitBudget budget(10ms);
  auto p = ReadStateFile(dir_.get(), StateFileName("pod1", "pod1"), options_, &budget);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->container_id, "pod1");
  // The lock is not kept: runsc can take it exclusively right away.
  const int fd = ::open(LockPath().c_str(), O_RDONLY);
  EXPECT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ::close(fd);
  EXPECT_EQ(budget.remaining(), 10ms);  // nothing was spent waiting
}

TEST_F(StateReaderTest, MissingLockFileIsNotCreated) {
  fs::remove(LockPath());
  WaitBudget budget(10ms);
  EXPECT_TRUE(ReadStateFile(dir_.get(), StateFileName("pod1", "pod1"), options_, &budget).ok());
  EXPECT_FALSE(fs::exists(LockPath()));
}

TEST_F(StateReaderTest, SymlinkedLockFileIsNotFollowed) {
  fs::remove(LockPath());
  const std::string target = tmp_.Sub("elsewhere.lock");
  testing::WriteFile(target, "");
  fs::create_symlink(target, LockPath());
  const int fd = ::open(target.c_str(), O_RDONLY);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // would stall us if the link were followed
  WaitBudget budget(1s);
  EXPECT_TRUE(ReadStateFile(dir_.get(), StateFileName("pod1", "pod1"), options_, &budget).ok());
  EXPECT_EQ(budget.remaining(), 1s);  // no lock retries happened
  ::close(fd);
}

TEST_F(StateReaderTest, ParseErrorUnderLockIsNotRetried) {
  testing::WriteFile(StatePath(), "{half");
  WaitBudget budget(10ms);
  auto p = ReadStateFile(dir_.get(), StateFileName("pod1", "pod1"), options_, &budget);
  EXPECT_EQ(p.status().reason(), Reason::kParse);
  EXPECT_EQ(budget.remaining(), 10ms);  // stable under our lock: no retry
}

// runsc truncates then writes under an exclusive lock: the reader must retry
// until it sees the whole file.
TEST_F(StateReaderTest, RetriesWhileWriterHoldsLock) {
  const int lock = ::open(LockPath().c_str(), O_RDONLY);
  ASSERT_EQ(::flock(lock, LOCK_EX), 0);
  const std::string full = testing::ReadFile(StatePath());
  testing::WriteFile(StatePath(), full.substr(0, 100));  // mid-write
  std::thread writer([&] {
    std::this_thread::sleep_for(30ms);
    testing::WriteFile(StatePath(), full);
    ::flock(lock, LOCK_UN);
  });
  options_.parse_retries = 200;
  options_.parse_retry_sleep = 1ms;
  WaitBudget budget(5s);
  auto p = ReadStateFile(dir_.get(), StateFileName("pod1", "pod1"), options_, &budget);
  writer.join();
  ::close(lock);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->gofer_pid, 11);
}

TEST_F(StateReaderTest, BusyLockRetriesThenReadsAnyway) {
  const int lock = ::open(LockPath().c_str(), O_RDONLY);
  ASSERT_EQ(::flock(lock, LOCK_EX), 0);
  WaitBudget budget(1s);
  auto p = ReadStateFile(dir_.get(), StateFileName("pod1", "pod1"), options_, &budget);
  ::close(lock);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(budget.remaining(), 1s - 2 * options_.lock_retry_sleep);  // 3 tries, 2 sleeps
}

TEST(WaitBudgetTest, RefusesToOverspend) {
  WaitBudget budget(3ms);
  EXPECT_TRUE(budget.Sleep(2ms));
  EXPECT_FALSE(budget.Sleep(2ms));
  EXPECT_TRUE(budget.Sleep(1ms));
  EXPECT_EQ(budget.remaining(), 0ms);
}

TEST_F(StateReaderTest, VanishedFileIsNotFound) {
  fs::remove(StatePath());
  WaitBudget budget(10ms);
  EXPECT_EQ(
      ReadStateFile(dir_.get(), StateFileName("pod1", "pod1"), options_, &budget).status().reason(),
      Reason::kNotFound);
}

}  // namespace
}  // namespace gvisor_exporter
