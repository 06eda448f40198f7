// RootScanner over fake roots and a fake /proc: discovery, grouping, churn.
// Fault injection is in root_scanner_faults_test.cc.
#include "exporter/sources/runsc_state/root_scanner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "exporter/sources/runsc_state/test_util.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

namespace fs = std::filesystem;
using testing::ErrorCount;
using testing::FakeProc;
using testing::TempDir;
using testing::TotalErrors;
using testing::WriteState;

class RootScannerTest : public ::testing::Test {
 protected:
  RootScannerTest() : proc_(tmp_.Sub("proc")) {}

  RootScannerOptions Options(std::vector<std::string> roots,
                             std::vector<std::string> parents = {}) const {
    RootScannerOptions o;
    o.roots = std::move(roots);
    o.root_parents = std::move(parents);
    o.proc_root = proc_.root();
    return o;
  }

  ScanResult Scan(std::vector<std::string> roots, std::vector<std::string> parents = {}) {
    return RootScanner(Options(std::move(roots), std::move(parents)), &reporter_).Scan();
  }

  // Live sandboxes pod0..pod<n-1> in `root`, with sentries 10.. in the fake /proc.
  void AddLiveSandboxes(const std::string& root, int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = "pod" + std::to_string(i);
      proc_.AddSentry(10 + i, id);
      WriteState(root, id, id, 10 + i, 0);
    }
  }

  TempDir tmp_;
  FakeProc proc_;
  ErrorReporter reporter_;
};

// The captured real root (pause + "worker" subcontainer) with the captured /proc entries.
TEST_F(RootScannerTest, RealCapturedRoot) {
  const std::string root = tmp_.MakeDir("root");
  fs::copy(testing::FixturePath("exporter/sources/runsc_state/testdata/real_root"), root);
  fs::copy(testing::FixturePath("exporter/sources/runsc_state/testdata/real_proc"), proc_.root(),
           fs::copy_options::recursive);
  testing::WriteFile(root + "/runsc-gvst-pod1.sock", "");  // newer runsc: ignored quietly

  ScanResult r = Scan({root});
  EXPECT_TRUE(r.success);
  EXPECT_EQ(TotalErrors(reporter_), 0u);
  ASSERT_EQ(r.roots_found, std::vector<std::string>{root});
  ASSERT_EQ(r.sandboxes.size(), 1u);
  const SandboxInfo& sb = r.sandboxes[0];
  EXPECT_EQ(sb.root, root);
  EXPECT_EQ(sb.id, "gvst-pod1");
  EXPECT_EQ(sb.pid, 5768);
  EXPECT_EQ(sb.pid_start_time, 31119u);
  EXPECT_EQ(sb.pod_name, "state-pod");
  EXPECT_EQ(sb.pod_namespace, "gve-ns");
  EXPECT_EQ(sb.pod_uid, "0b7e3a52-7c1e-4e0a-9a51-0d2f1c3e4a5b");
  EXPECT_EQ(sb.cgroup.kind, CgroupRef::Kind::kV1);
  EXPECT_EQ(sb.cgroup.path, "/gve-state-test/gvst-pod1");
  ASSERT_EQ(sb.containers.size(), 2u);
  EXPECT_EQ(sb.containers[0].id, "gvst-pod1");
  EXPECT_TRUE(sb.containers[0].is_pause);
  EXPECT_EQ(sb.containers[0].name, "");
  EXPECT_EQ(sb.containers[0].gofer_pid, 5764);
  EXPECT_EQ(sb.containers[0].status, "running");
  EXPECT_EQ(sb.containers[1].id, "gvst-app1");
  EXPECT_FALSE(sb.containers[1].is_pause);
  EXPECT_EQ(sb.containers[1].name, "worker");
  EXPECT_EQ(sb.containers[1].image, "docker.io/library/busybox:1.36");
  EXPECT_EQ(sb.containers[1].gofer_pid, 5816);
  EXPECT_EQ(sb.containers[1].created_at, "2026-11-28T18:07:10.532318617Z");

  // A stopped container's gofer exits: the container stays, gofer_pid becomes 0.
  proc_.Remove(5816);
  r = Scan({root});
  ASSERT_EQ(r.sandboxes.size(), 1u);
  ASSERT_EQ(r.sandboxes[0].containers.size(), 2u);
  EXPECT_EQ(r.sandboxes[0].containers[1].gofer_pid, 0);
}

TEST_F(RootScannerTest, ContainersOrderedPauseFirstThenById) {
  const std::string root = tmp_.MakeDir("root");
  proc_.AddSentry(10, "zz-pod");
  WriteState(root, "b-ctr", "zz-pod", 10, 0);
  WriteState(root, "zz-pod", "zz-pod", 10, 0);
  WriteState(root, "a-ctr", "zz-pod", 10, 0);
  ScanResult r = Scan({root});
  ASSERT_EQ(r.sandboxes.size(), 1u);
  const auto& c = r.sandboxes[0].containers;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].id, "zz-pod");
  EXPECT_EQ(c[1].id, "a-ctr");
  EXPECT_EQ(c[1].name, "name-a-ctr");
  EXPECT_EQ(c[2].id, "b-ctr");
}

TEST_F(RootScannerTest, MissingPauseFileUsesSubcontainerSandboxBlock) {
  const std::string root = tmp_.MakeDir("root");
  proc_.AddSentry(10, "pod1");
  WriteState(root, "app1", "pod1", 10, 0);
  ScanResult r = Scan({root});
  ASSERT_EQ(r.sandboxes.size(), 1u);
  EXPECT_EQ(r.sandboxes[0].id, "pod1");
  EXPECT_EQ(r.sandboxes[0].pid, 10);
  EXPECT_EQ(r.sandboxes[0].pod_name, "pod-pod1");
  EXPECT_EQ(r.sandboxes[0].cgroup.path, "/gve-state-test/pod1");
  ASSERT_EQ(r.sandboxes[0].containers.size(), 1u);
  EXPECT_FALSE(r.sandboxes[0].containers[0].is_pause);
}

TEST_F(RootScannerTest, MissingRootAndParentAreQuiet) {
  ScanResult r = Scan({tmp_.Sub("nope")}, {tmp_.Sub("no-parent")});
  EXPECT_TRUE(r.success);
  EXPECT_TRUE(r.roots_found.empty());
  EXPECT_TRUE(r.sandboxes.empty());
  EXPECT_EQ(TotalErrors(reporter_), 0u);
}

TEST_F(RootScannerTest, RootAppearsLaterAndIsRecreated) {
  const std::string parent = tmp_.Sub("runsc");
  const std::string root = parent + "/k8s.io";
  proc_.AddSentry(10, "pod1");
  RootScanner scanner(Options({}, {parent}), &reporter_);
  EXPECT_TRUE(scanner.Scan().roots_found.empty());

  fs::create_directories(root);  // containerd starts its first sandbox
  WriteState(root, "pod1", "pod1", 10, 0);
  ScanResult r = scanner.Scan();
  EXPECT_EQ(r.roots_found, std::vector<std::string>{root});
  ASSERT_EQ(r.sandboxes.size(), 1u);

  fs::remove_all(root);
  r = scanner.Scan();
  EXPECT_TRUE(r.roots_found.empty());
  EXPECT_TRUE(r.sandboxes.empty());

  fs::create_directories(root);
  proc_.AddSentry(20, "pod2");
  WriteState(root, "pod2", "pod2", 20, 0);
  r = scanner.Scan();
  ASSERT_EQ(r.sandboxes.size(), 1u);
  EXPECT_EQ(r.sandboxes[0].id, "pod2");
  EXPECT_EQ(TotalErrors(reporter_), 0u);
}

TEST_F(RootScannerTest, ParentsExplicitRootsSortedAndDeduplicated) {
  const std::string parent = tmp_.Sub("runsc");
  const std::string k8s = tmp_.MakeDir("runsc/k8s.io");
  const std::string moby = tmp_.MakeDir("runsc/moby");
  testing::WriteFile(parent + "/stray-file", "");  // not a root, ignored
  proc_.AddSentry(10, "pod1");
  proc_.AddSentry(11, "pod0");
  WriteState(k8s, "pod1", "pod1", 10, 0);
  WriteState(moby, "pod1", "pod1", 10, 0);  // same id in another root: both kept
  WriteState(k8s, "pod0", "pod0", 11, 0);
  // The same k8s.io root again, explicitly and through a symlink: scanned once.
  fs::create_directory_symlink(k8s, tmp_.Sub("alias"));
  ScanResult r = Scan({k8s + "/", tmp_.Sub("alias")}, {parent});
  EXPECT_TRUE(r.success);
  EXPECT_EQ(TotalErrors(reporter_), 0u);
  // "<tmp>/alias" sorts before "<tmp>/runsc/k8s.io", so the alias names that root.
  EXPECT_EQ(r.roots_found, (std::vector<std::string>{tmp_.Sub("alias"), moby}));
  ASSERT_EQ(r.sandboxes.size(), 3u);
  EXPECT_EQ(r.sandboxes[0].root, tmp_.Sub("alias"));
  EXPECT_EQ(r.sandboxes[0].id, "pod0");
  EXPECT_EQ(r.sandboxes[1].id, "pod1");
  EXPECT_EQ(r.sandboxes[2].root, moby);
  EXPECT_EQ(r.sandboxes[2].id, "pod1");
}

TEST_F(RootScannerTest, StateFileRewrittenBetweenScans) {
  const std::string root = tmp_.MakeDir("root");
  proc_.AddSentry(10, "pod1", 111);
  WriteState(root, "pod1", "pod1", 10, 0);
  RootScanner scanner(Options({root}), &reporter_);
  ScanResult r = scanner.Scan();
  ASSERT_EQ(r.sandboxes.size(), 1u);
  EXPECT_EQ(r.sandboxes[0].pid, 10);

  // A restore/restart: same sandbox id, new sentry pid and status.
  proc_.AddSentry(20, "pod1", 222);
  nlohmann::json j = testing::StateJson("pod1", "pod1", 20, 0);
  j["status"] = "paused";
  testing::WriteFile(root + "/" + testing::StateFileName("pod1", "pod1"), j.dump());
  r = scanner.Scan();
  ASSERT_EQ(r.sandboxes.size(), 1u);
  EXPECT_EQ(r.sandboxes[0].pid, 20);
  EXPECT_EQ(r.sandboxes[0].pid_start_time, 222u);
  EXPECT_EQ(r.sandboxes[0].containers[0].status, "paused");
  EXPECT_EQ(TotalErrors(reporter_), 0u);
}

TEST_F(RootScannerTest, SandboxLimit) {
  const std::string root = tmp_.MakeDir("root");
  AddLiveSandboxes(root, 4);
  WriteState(root, "pod-dead", "pod-dead", 99, 0);  // stale: must not use up the limit
  RootScannerOptions o = Options({root});
  o.max_sandboxes = 2;
  ScanResult r = RootScanner(o, &reporter_).Scan();
  EXPECT_FALSE(r.success);
  ASSERT_EQ(r.sandboxes.size(), 2u);
  EXPECT_EQ(r.sandboxes[0].id, "pod0");
  EXPECT_EQ(r.sandboxes[1].id, "pod1");
  EXPECT_EQ(ErrorCount(reporter_, "too_large"), 1u);
}

TEST_F(RootScannerTest, FilesPerRootLimit) {
  const std::string root = tmp_.MakeDir("root");
  AddLiveSandboxes(root, 5);
  RootScannerOptions o = Options({root});
  o.max_files_per_root = 3;
  ScanResult r = RootScanner(o, &reporter_).Scan();
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.sandboxes.size(), 3u);
  EXPECT_EQ(ErrorCount(reporter_, "too_large"), 1u);
}

}  // namespace
}  // namespace gvisor_exporter
