#include "exporter/common/pid_watch.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter {
namespace {

// A child that sleeps until killed; reaped by the destructor.
struct Child {
  pid_t pid = fork();
  Child() {
    if (pid == 0) {
      pause();
      _exit(0);
    }
  }
  void Kill() const { kill(pid, SIGKILL); }
  ~Child() {
    Kill();
    waitpid(pid, nullptr, 0);
  }
};

TEST(PidWatchTest, SameProcNumberingOnlyForOurProc) {
  EXPECT_TRUE(SameProcNumbering("/proc"));
  testing::TempDir tmp;
  EXPECT_FALSE(SameProcNumbering(tmp.path()));
  EXPECT_EQ(PidWatch::Open(tmp.path(), 10), nullptr);
}

TEST(PidWatchTest, AliveUntilTheProcessExitsEvenUnreaped) {
  std::unique_ptr<PidWatch> watch = PidWatch::Open("/proc", 10);
  ASSERT_NE(watch, nullptr) << "pidfd_open unusable on this kernel";
  Child a, b;
  ASSERT_GT(a.pid, 0);
  ASSERT_GT(b.pid, 0);
  watch->BeginRound();
  EXPECT_FALSE(watch->Alive("a"));
  watch->Watch("a", PidWatch::OpenPidfd(a.pid), 41);
  watch->Watch("b", PidWatch::OpenPidfd(b.pid), 42);
  watch->EndRound();

  watch->BeginRound();
  EXPECT_EQ(watch->Alive("a"), 41u);
  EXPECT_EQ(watch->Alive("b"), 42u);
  watch->EndRound();

  // a exits and stays a zombie (not reaped until ~Child): gone all the same.
  a.Kill();
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, a.pid, &info, WEXITED | WNOWAIT), 0);
  watch->BeginRound();
  EXPECT_FALSE(watch->Alive("a"));
  EXPECT_EQ(watch->Alive("b"), 42u);
  watch->EndRound();
  EXPECT_EQ(watch->size(), 1u);

  // Not asked about in a round: closed at its end.
  watch->BeginRound();
  watch->EndRound();
  EXPECT_EQ(watch->size(), 0u);
}

TEST(PidWatchTest, NoPidfdForNoProcess) {
  EXPECT_FALSE(PidWatch::OpenPidfd(0).valid());
  EXPECT_FALSE(PidWatch::OpenPidfd(-5).valid());
  EXPECT_FALSE(PidWatch::OpenPidfd(int64_t{1} << 40).valid());
  std::unique_ptr<PidWatch> watch = PidWatch::Open("/proc", 10);
  ASSERT_NE(watch, nullptr);
  watch->Watch("none", UniqueFd(), 1);  // an invalid fd is not watched
  EXPECT_EQ(watch->size(), 0u);
}

TEST(PidWatchTest, AtMostMaxWatched) {
  std::unique_ptr<PidWatch> watch = PidWatch::Open("/proc", 2);
  ASSERT_NE(watch, nullptr);
  for (const char* key : {"a", "b", "c"}) watch->Watch(key, PidWatch::OpenPidfd(getpid()), 1);
  EXPECT_EQ(watch->size(), 2u);
  EXPECT_FALSE(watch->Alive("c"));
  watch->Watch("a", PidWatch::OpenPidfd(getpid()), 7);  // a key already watched is replaced
  EXPECT_EQ(watch->Alive("a"), 7u);
}

}  // namespace
}  // namespace gvisor_exporter
