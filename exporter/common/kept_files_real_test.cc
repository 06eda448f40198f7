// KeptFiles on a real cgroup file: needs root and a cgroup v1 pids
// hierarchy, so this is a `real` test (see CMakeLists.txt).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exporter/common/kept_files.h"
#include "exporter/common/testing_kept_files.h"

namespace gvisor_exporter {
namespace {

using testing::OpenPath;

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
