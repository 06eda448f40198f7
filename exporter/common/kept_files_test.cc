#include "exporter/common/kept_files.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>

#include "exporter/common/testing_kept_files.h"

namespace gvisor_exporter {
namespace {

using testing::OpenPath;

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
  // so under ASan. kept_files_real_test.cc compares a stable cgroup file.)
}

}  // namespace
}  // namespace gvisor_exporter
