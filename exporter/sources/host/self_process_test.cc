#include "exporter/sources/host/self_process.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter {
namespace {

using testing::TempDir;

// A /proc/<pid>/stat line whose comm has ") " in it: the fields must be
// located from the last ')'. utime 250, stime 150, starttime 123456,
// vsize 104857600, rss 2560 pages.
constexpr char kStat[] =
    "4242 (gvisor) (x) S 1 4242 4242 0 -1 4194560 5000 0 3 0 250 150 0 0 20 0 9 0 123456 "
    "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

constexpr char kLimits[] =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max open files            1024                 524288               files     \n"
    "Max address space         unlimited            unlimited            bytes     \n";

void MakeProc(const TempDir& dir, int fds) {
  dir.Write("stat", "cpu  1 2 3 4\nintr 12 0 0\nctxt 99\nbtime 1700000000\nprocesses 5\n");
  dir.Write("4242/stat", kStat);
  dir.Write("4242/limits", kLimits);
  dir.MakeDir("4242/fd");
  for (int i = 0; i < fds; ++i) dir.Write("4242/fd/" + std::to_string(i), "");
}

TEST(SelfProcessReaderTest, ReadsEveryValueOfAFixtureProcess) {
  TempDir dir("self-process");
  MakeProc(dir, 7);
  const ProcessStats s = SelfProcessReader(dir.path(), "4242", 100, 4096).Read();
  EXPECT_EQ(s.cpu_seconds, 4.0);                      // (250 + 150) / 100
  EXPECT_EQ(s.resident_memory_bytes, 2560.0 * 4096);  // pages * page size
  EXPECT_EQ(s.virtual_memory_bytes, 104857600.0);
  EXPECT_EQ(s.start_time_seconds, 1700000000 + 1234.56);  // btime + 123456 / 100
  EXPECT_EQ(s.open_fds, 7.0);                             // not "self": nothing skipped
  EXPECT_EQ(s.max_fds, 1024.0);                           // the soft limit
  EXPECT_EQ(s.virtual_memory_max_bytes, 18446744073709551615.0);
}

TEST(SelfProcessReaderTest, WhatCannotBeReadStaysUnsetAndNothingThrows) {
  TempDir dir("self-process");
  dir.Write("4242/stat", "4242 (x) S 1 2\n");  // truncated
  dir.Write("4242/limits", "Max open files            lots   lots  files\n");
  const ProcessStats s = SelfProcessReader(dir.path(), "4242", 100, 4096).Read();
  EXPECT_FALSE(s.cpu_seconds);
  EXPECT_FALSE(s.resident_memory_bytes);
  EXPECT_FALSE(s.start_time_seconds);
  EXPECT_FALSE(s.open_fds);  // no fd/
  EXPECT_FALSE(s.max_fds);
  EXPECT_FALSE(s.virtual_memory_max_bytes);
  const ProcessStats none = SelfProcessReader(dir.Sub("missing"), "1").Read();
  EXPECT_FALSE(none.cpu_seconds);
  EXPECT_FALSE(none.open_fds);
}

TEST(SelfProcessReaderTest, StartTimeNeedsBootTime) {
  TempDir dir("self-process");
  MakeProc(dir, 0);
  dir.Write("stat", "cpu  1 2 3 4\n");  // no btime line
  const ProcessStats s = SelfProcessReader(dir.path(), "4242", 100, 4096).Read();
  EXPECT_FALSE(s.start_time_seconds);
  EXPECT_EQ(s.cpu_seconds, 4.0);
  EXPECT_EQ(s.open_fds, 0.0);
}

TEST(SoftLimitTest, MatchesTheWholeName) {
  EXPECT_EQ(SoftLimit(kLimits, "Max open files"), 1024.0);
  EXPECT_FALSE(SoftLimit(kLimits, "Max open"));
  EXPECT_FALSE(SoftLimit(kLimits, "Max locked memory"));
}

// The real /proc/self against the kernel's other interfaces.
TEST(SelfProcessReaderTest, OnceCountedTheFdCountIsTheLastCount) {
  SelfProcessReader self;
  self.CountOpenFds();
  const ProcessStats counted = self.Read();
  ASSERT_TRUE(counted.open_fds);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  EXPECT_EQ(self.Read().open_fds, counted.open_fds);  // not listed again per Read
  self.CountOpenFds();
  EXPECT_EQ(*self.Read().open_fds, *counted.open_fds + 2);
  close(p[0]);
  close(p[1]);
}

// The count from the fd directory's size (Linux >= 6.2) is the number of
// entries a listing finds, less the listing's own descriptor.
TEST(SelfProcessReaderTest, FdCountEqualsAListingOfFd) {
  SelfProcessReader self;
  struct utsname u {};
  ASSERT_EQ(uname(&u), 0);
  int major = 0, minor = 0;
  ASSERT_EQ(sscanf(u.release, "%d.%d", &major, &minor), 2);
  EXPECT_EQ(self.fd_count_from_size(), major > 6 || (major == 6 && minor >= 2)) << u.release;
  std::vector<int> pipes(64);
  for (size_t i = 0; i < pipes.size(); i += 2) ASSERT_EQ(pipe(&pipes[i]), 0);
  self.CountOpenFds();
  DIR* d = opendir("/proc/self/fd");
  ASSERT_NE(d, nullptr);
  double listed = 0;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] != '.' && std::atoi(e->d_name) != dirfd(d)) ++listed;
  }
  closedir(d);
  for (int fd : pipes) close(fd);
  EXPECT_EQ(self.Read().open_fds, listed);
}

TEST(SelfProcessReaderTest, OwnProcessAgreesWithGetrlimitGetrusageAndOpenedFds) {
  SelfProcessReader self;
  const ProcessStats before = self.Read();
  ASSERT_TRUE(before.open_fds);
  std::vector<int> pipes(10);
  for (size_t i = 0; i < pipes.size(); i += 2) ASSERT_EQ(pipe(&pipes[i]), 0);
  const ProcessStats after = self.Read();
  for (int fd : pipes) close(fd);
  EXPECT_EQ(*after.open_fds - *before.open_fds, 10.0);

  rlimit nofile{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &nofile), 0);
  EXPECT_EQ(after.max_fds, static_cast<double>(nofile.rlim_cur));

  // Burn some CPU, then compare with getrusage (which has µs resolution;
  // /proc has clock ticks, so allow two ticks).
  volatile double x = 0;
  for (int i = 0; i < 20000000; ++i) x = x + std::sqrt(static_cast<double>(i));
  rusage ru{};
  ASSERT_EQ(getrusage(RUSAGE_SELF, &ru), 0);
  const ProcessStats now = self.Read();
  const double rusage_cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
                            ru.ru_stime.tv_usec / 1e6;
  ASSERT_TRUE(now.cpu_seconds);
  EXPECT_NEAR(*now.cpu_seconds, rusage_cpu, 2.0 / sysconf(_SC_CLK_TCK) + 0.01);
  EXPECT_GT(*now.cpu_seconds, 0.0);
  ASSERT_TRUE(now.resident_memory_bytes);
  EXPECT_GT(*now.resident_memory_bytes, 0.0);
  EXPECT_LE(*now.resident_memory_bytes, ru.ru_maxrss * 1024.0);
  EXPECT_GT(now.virtual_memory_bytes.value_or(0), *now.resident_memory_bytes);

  // Started before now, and not before this test binary could have.
  const double unix_now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  ASSERT_TRUE(now.start_time_seconds);
  EXPECT_LE(*now.start_time_seconds, unix_now + 1);
  EXPECT_GE(*now.start_time_seconds, unix_now - 600);
}

}  // namespace
}  // namespace gvisor_exporter
