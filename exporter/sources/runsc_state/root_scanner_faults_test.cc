// Fault injection: every broken input is counted, skipped on its own, and
// the healthy sandbox beside it is still returned.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "exporter/sources/runsc_state/root_scanner.h"
#include "exporter/sources/runsc_state/test_util.h"

namespace gvisor_exporter {
namespace {

namespace fs = std::filesystem;
using testing::ErrorCount;
using testing::FakeProc;
using testing::StateFileName;
using testing::TempDir;
using testing::TotalErrors;
using testing::WriteFile;
using testing::WriteState;

class RootScannerFaultTest : public ::testing::Test {
 protected:
  RootScannerFaultTest() : proc_(tmp_.Sub("proc")) {
    parent_ = tmp_.MakeDir("runsc");
    root_ = tmp_.MakeDir("runsc/k8s.io");
    proc_.AddSentry(10, "good");
    proc_.AddGofer(11);
    WriteState(root_, "good", "good", 10, 11);
    options_.root_parents = {parent_};
    options_.proc_root = proc_.root();
  }

  // Scans and checks that the healthy sandbox survived whatever was injected.
  ScanResult ScanExpectingGood() {
    ScanResult r = RootScanner(options_, &reporter_).Scan();
    bool found = false;
    for (const SandboxInfo& s : r.sandboxes) found |= s.id == "good" && s.pid == 10;
    EXPECT_TRUE(found) << "healthy sandbox lost";
    return r;
  }

  void WriteBad(const std::string& id, const std::string& content) {
    WriteState(root_, id, id, content);
  }

  TempDir tmp_;
  FakeProc proc_;
  ErrorReporter reporter_;
  RootScannerOptions options_;
  std::string parent_, root_;
};

TEST_F(RootScannerFaultTest, Healthy) {
  ScanResult r = ScanExpectingGood();
  EXPECT_TRUE(r.success);
  EXPECT_EQ(r.sandboxes.size(), 1u);
  EXPECT_EQ(r.sandboxes[0].containers[0].gofer_pid, 11);
  EXPECT_EQ(TotalErrors(reporter_), 0u);
}

TEST_F(RootScannerFaultTest, GarbledJson) {
  WriteBad("bad", "{\"id\": \"bad\", \"sandbox\": {{{ nonsense");
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "parse"), 1u);
}

TEST_F(RootScannerFaultTest, TruncatedJsonMidWrite) {
  const std::string full = testing::StateJson("bad", "bad", 10, 0).dump();
  WriteBad("bad", full.substr(0, full.size() * 2 / 3));
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "parse"), 1u);
}

TEST_F(RootScannerFaultTest, EmptyFileJustTruncated) {
  WriteBad("bad", "");
  fs::remove(root_ + "/" +
             testing::LockFileName("bad", "bad"));  // unlocked: retried, then given up
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "parse"), 1u);
}

TEST_F(RootScannerFaultTest, HugeFileOverLimit) {
  options_.max_state_file_bytes = size_t{64} * 1024;
  nlohmann::json j = testing::StateJson("huge", "huge", 10, 0);
  j["spec"]["annotations"]["padding"] = std::string(size_t{100} * 1024, 'x');
  WriteBad("huge", j.dump());
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "too_large"), 1u);
}

TEST_F(RootScannerFaultTest, DeeplyNestedJson) {
  WriteBad("deep", "{\"id\":" + std::string(100000, '['));
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "too_large"), 1u);
}

TEST_F(RootScannerFaultTest, DeadPidIsStale) {
  WriteState(root_, "dead", "dead", 4000, 0);  // no <proc>/4000
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "not_found"), 1u);
}

TEST_F(RootScannerFaultTest, ReusedPidIsStale) {
  proc_.AddProcess(4000, {"/usr/sbin/nginx", "-g", "daemon off;"}, 5);
  WriteState(root_, "reused", "reused", 4000, 0);
  // The sentry of ANOTHER sandbox does not make this one alive either.
  WriteState(root_, "other", "other", 10, 0);
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "not_found"), 2u);
}

TEST_F(RootScannerFaultTest, SymlinkedStateFileIsNotRead) {
  const std::string elsewhere = tmp_.MakeDir("elsewhere");
  proc_.AddSentry(20, "evil");
  WriteState(elsewhere, "evil", "evil", 20, 0);
  fs::create_symlink(elsewhere + "/" + StateFileName("evil", "evil"),
                     root_ + "/" + StateFileName("evil", "evil"));
  ScanResult r = ScanExpectingGood();
  ASSERT_EQ(r.sandboxes.size(), 1u);  // "evil" absent: the link was not followed
  EXPECT_EQ(ErrorCount(reporter_, "invalid"), 1u);
}

TEST_F(RootScannerFaultTest, SymlinkedRootUnderParentIsRefused) {
  const std::string elsewhere = tmp_.MakeDir("elsewhere");
  proc_.AddSentry(20, "evil");
  WriteState(elsewhere, "evil", "evil", 20, 0);
  fs::create_directory_symlink(elsewhere, parent_ + "/linked");
  ScanResult r = ScanExpectingGood();
  EXPECT_EQ(r.roots_found, std::vector<std::string>{root_});
  ASSERT_EQ(r.sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "invalid"), 1u);
}

TEST_F(RootScannerFaultTest, BadIdInFileName) {
  proc_.AddSentry(20, "bad$id");
  WriteState(root_, "bad$id", "bad$id", 20, 0);
  WriteFile(root_ + "/ok_sandbox:a b.state", "{}");
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "invalid"), 2u);
}

TEST_F(RootScannerFaultTest, BadIdInsideJson) {
  nlohmann::json j = testing::StateJson("inj", "inj", 10, 0);
  j["sandbox"]["id"] = "../../etc/passwd";
  WriteBad("inj", j.dump());
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "invalid"), 1u);
}

TEST_F(RootScannerFaultTest, IdsInJsonDisagreeWithName) {
  proc_.AddSentry(20, "other");
  WriteBad("mismatch", testing::StateJson("other", "other", 20, 0).dump());
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "invalid"), 1u);
}

TEST_F(RootScannerFaultTest, CgroupPathEscape) {
  nlohmann::json j = testing::StateJson("esc", "esc", 10, 0);
  j["sandbox"]["cgroup"]["cgroupv1"]["name"] = "/kubepods/../../../etc";
  WriteBad("esc", j.dump());
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "invalid"), 1u);
}

TEST_F(RootScannerFaultTest, ExclusivelyLockedFileStillScannedPromptly) {
  const int fd = ::open((root_ + "/" + testing::LockFileName("good", "good")).c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // as runsc does during a write
  const auto start = std::chrono::steady_clock::now();
  ScanResult r = ScanExpectingGood();  // read anyway after the lock retries
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));
  EXPECT_EQ(r.sandboxes.size(), 1u);
  EXPECT_EQ(TotalErrors(reporter_), 0u);
}

TEST_F(RootScannerFaultTest, ManyLockedFilesBoundedByWaitBudget) {
  std::vector<int> fds;
  for (int i = 0; i < 300; ++i) {
    const std::string id = "busy" + std::to_string(i);
    WriteBad(id, "");  // empty and locked: every read would wait and retry
    fds.push_back(::open((root_ + "/" + testing::LockFileName(id, id)).c_str(), O_RDONLY));
    ASSERT_EQ(::flock(fds.back(), LOCK_EX), 0);
  }
  options_.max_wait_per_scan = std::chrono::milliseconds(50);
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::off);  // 300 distinct subjects: 300 log lines
  const auto start = std::chrono::steady_clock::now();
  ScanExpectingGood();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  spdlog::set_level(level);
  for (int fd : fds) ::close(fd);
  EXPECT_LT(elapsed, std::chrono::milliseconds(1000));  // not 300 x (3 x 2 ms + 2 x 5 ms)
  EXPECT_EQ(ErrorCount(reporter_, "parse"), 300u);
}

TEST_F(RootScannerFaultTest, NonRegularStateFile) {
  fs::create_directory(root_ + "/" + StateFileName("dir", "dir"));
  ASSERT_EQ(::mkfifo((root_ + "/" + StateFileName("fifo", "fifo")).c_str(), 0600), 0);
  EXPECT_EQ(ScanExpectingGood().sandboxes.size(), 1u);
  EXPECT_EQ(ErrorCount(reporter_, "invalid"), 2u);
}

TEST_F(RootScannerFaultTest, UnreadableExplicitRootFailsScanButKeepsOthers) {
  WriteFile(tmp_.Sub("not-a-dir"), "");
  options_.roots = {tmp_.Sub("not-a-dir")};
  ScanResult r = ScanExpectingGood();
  EXPECT_FALSE(r.success);
  EXPECT_EQ(TotalErrors(reporter_), 1u);
}

TEST_F(RootScannerFaultTest, StaleFilesKeepBeingCountedButLogRateLimited) {
  WriteState(root_, "dead", "dead", 4000, 0);
  RootScanner scanner(options_, &reporter_);
  for (int i = 0; i < 3; ++i) scanner.Scan();
  EXPECT_EQ(ErrorCount(reporter_, "not_found"), 3u);
  EXPECT_EQ(reporter_.suppressed_logs(), 2u);
}

}  // namespace
}  // namespace gvisor_exporter
