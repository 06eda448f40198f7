#include "exporter/common/kept_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gvisor_exporter {
namespace {

KeptFiles::Opener OpenPath(const std::string& path) {
  return [path]() -> StatusOr<UniqueFd> {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, "open " + path);
    return UniqueFd(fd);
  };
}

TEST(KeptFilesTest, AProcFileIsKeptAndReadAfreshEachTime) {
  KeptFiles kept(16);
  const std::string path = "/proc/self/stat";
  StatusOr<std::string> a = kept.Read(path, OpenPath(path), 4096);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(kept.size(), 1u);
  // The kept descriptor shows the current state: touching 1 MiB of new
  // memory moves our minor fault count.
  std::string touched(1 << 20, 'x');
  StatusOr<std::string> b = kept.Read(
      path,
      []() -> StatusOr<UniqueFd> {
        ADD_FAILURE() << "opened again";
        return NotFoundError("x");
      },
      4096);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->substr(0, a->find(')')), b->substr(0, b->find(')')));
  EXPECT_NE(*a, *b);
}

TEST(KeptFilesTest, AGoneProcessIsNotFoundEvenThroughItsKeptDescriptor) {
  KeptFiles kept(16);
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  const std::string path = "/proc/" + std::to_string(child) + "/stat";
  ASSERT_TRUE(kept.Read(path, OpenPath(path), 4096).ok());
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(kept.Read(path, OpenPath(path), 4096).status().reason(), Reason::kNotFound);
  EXPECT_EQ(kept.size(), 0u);
}

TEST(KeptFilesTest, FilesNotReadInARoundAreClosedAtItsEnd) {
  KeptFiles kept(16);
  ASSERT_TRUE(kept.Read("/proc/self/stat", OpenPath("/proc/self/stat"), 4096).ok());
  ASSERT_TRUE(kept.Read("/proc/self/statm", OpenPath("/proc/self/statm"), 4096).ok());
  kept.EndRound();
  EXPECT_EQ(kept.size(), 2u);  // both read in the round that ended
  ASSERT_TRUE(kept.Read("/proc/self/stat", OpenPath("/proc/self/stat"), 4096).ok());
  kept.EndRound();
  EXPECT_EQ(kept.size(), 1u);  // statm was not read: closed
  kept.EndRound();
  EXPECT_EQ(kept.size(), 0u);
}

TEST(KeptFilesTest, RegularFilesAreNotKept) {
  char name[] = "/tmp/kept-files-XXXXXX";
  const int fd = ::mkstemp(name);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "one", 3), 3);
  ::close(fd);
  KeptFiles kept(16);
  EXPECT_EQ(*kept.Read(name, OpenPath(name), 100), "one");
  EXPECT_EQ(kept.size(), 0u);
  std::ofstream(name) << "two";  // a replaced fake /proc file is seen
  EXPECT_EQ(*kept.Read(name, OpenPath(name), 100), "two");
  ::unlink(name);
}

TEST(KeptFilesTest, BoundedInDescriptorsAndBytes) {
  KeptFiles kept(1);
  ASSERT_TRUE(kept.Read("/proc/self/stat", OpenPath("/proc/self/stat"), 4096).ok());
  ASSERT_TRUE(kept.Read("/proc/self/statm", OpenPath("/proc/self/statm"), 4096).ok());
  EXPECT_EQ(kept.size(), 1u);  // the second was read, not kept
  EXPECT_EQ(kept.Read("/proc/self/status", OpenPath("/proc/self/status"), 10).status().reason(),
            Reason::kTooLarge);
  // Larger than the first 4 KiB buffer: grown and read whole.
  StatusOr<std::string> maps =
      kept.Read("/proc/self/smaps", OpenPath("/proc/self/smaps"), 1 << 24, Records::OfAtMost(4096));
  ASSERT_TRUE(maps.ok()) << maps.status().ToString();
  EXPECT_GT(maps->size(), 4096u);
  EXPECT_EQ(maps->back(), '\n');
  // (Not compared with a plain read: reading our own smaps maps memory, more
  // so under ASan. The cgroup test below compares a stable file.)
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A cgroup file of small records (one tid per line), larger than the
// kernel's page-sized seq buffer: read whole, as a plain read to EOF. Needs
// root and a cgroup v1 pids hierarchy; skipped otherwise.
TEST(KeptFilesTest, SmallRecordFilesLargerThanAPageAreReadWhole) {
  const std::string cg = "/sys/fs/cgroup/pids/gve-kept-files-" + std::to_string(::getpid());
  if (::mkdir(cg.c_str(), 0755) != 0) GTEST_SKIP() << "cannot create " << cg;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<std::thread> threads;
  std::vector<std::string> tids(1400);  // > 4096 bytes even with 3-digit tids
  for (size_t i = 0; i < tids.size(); ++i) {
    threads.emplace_back([&, i] {
      tids[i] = std::to_string(::gettid());
      std::ofstream(cg + "/tasks") << tids[i] << "\n";
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return release; });
    });
  }
  const std::string path = cg + "/tasks";
  for (int i = 0; i < 5000; ++i) {
    const std::string now = ReadWhole(path);
    if (std::count(now.begin(), now.end(), '\n') >= 1400) break;
    ::usleep(1000);
  }
  const std::string direct = ReadWhole(path);
  KeptFiles kept(16);
  StatusOr<std::string> got = kept.Read(path, OpenPath(path), 1 << 20, Records::OfAtMost(8));
  // Records of unknown size: read until a read returns 0.
  StatusOr<std::string> until_end =
      KeptFiles(16).Read(path, OpenPath(path), 1 << 20, Records::OfAtMost(4096));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  ::rmdir(cg.c_str());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_GT(direct.size(), 4096u);
  EXPECT_EQ(*got, direct);
  ASSERT_TRUE(until_end.ok()) << until_end.status().ToString();
  EXPECT_EQ(*until_end, direct);
}

}  // namespace
}  // namespace gvisor_exporter
