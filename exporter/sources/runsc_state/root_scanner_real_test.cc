// RootScanner against a REAL runsc sandbox (pause + one subcontainer carrying
// CRI annotations) under a private root. Needs root and runsc (skipped
// otherwise; CI has both). Sandboxes come from exporter/testing/real_sandbox.h.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "exporter/sources/runsc_state/proc_check.h"
#include "exporter/sources/runsc_state/root_scanner.h"
#include "exporter/sources/runsc_state/test_util.h"
#include "exporter/testing/real_sandbox.h"

namespace gvisor_exporter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::RealSandboxEnv;

class RealRunscTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = RealSandboxEnv::Unavailable(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(fs::exists("/bin/busybox")) << "install busybox-static";
    env_ = std::make_unique<RealSandboxEnv>("gve-state-test");
    sandbox_id_ = RealSandboxEnv::UniqueId("gvst");
    container_id_ = RealSandboxEnv::UniqueId("gvst");
    root_ = env_->root();
  }

  json PodAnnotations(const std::string& type) const {
    return {{"io.kubernetes.cri.container-type", type},
            {"io.kubernetes.cri.sandbox-id", sandbox_id_},
            {"io.kubernetes.cri.sandbox-name", "real-pod"},
            {"io.kubernetes.cri.sandbox-namespace", "real-ns"},
            {"io.kubernetes.cri.sandbox-uid", "8d4f0c1e-real-uid"}};
  }

  // The pod sandbox, then a "worker" subcontainer in it (its cgroup nested
  // in the sandbox's, as containerd lays them out).
  void StartPod() {
    testing::StartOptions pod;
    pod.annotations = PodAnnotations("sandbox");
    pod.cgroups_path = "/gve-state-test/" + sandbox_id_;
    Status st = env_->Start(sandbox_id_, pod);
    ASSERT_TRUE(st.ok()) << st.ToString();
    testing::StartOptions app;
    app.sandbox_id = sandbox_id_;
    app.annotations = PodAnnotations("container");
    app.annotations["io.kubernetes.cri.container-name"] = "worker";
    app.cgroups_path = pod.cgroups_path + "/" + container_id_;
    st = env_->Start(container_id_, app);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  json List() {
    StatusOr<json> list = env_->List();
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? *list : json();
  }

  bool IsSentryPidLive(int64_t pid) const { return CheckSentry("/proc", pid, sandbox_id_).ok(); }

  ScanResult Scan() {
    RootScannerOptions o;
    o.roots = {root_};
    o.root_parents = {};
    return RootScanner(o, &reporter_).Scan();
  }

  std::unique_ptr<RealSandboxEnv> env_;  // kills what it started, by pid too
  std::string root_, sandbox_id_, container_id_;
  ErrorReporter reporter_;
};

TEST_F(RealRunscTest, ScanMatchesRunscListAndDropsKilledSandbox) {
  ASSERT_NO_FATAL_FAILURE(StartPod());
  const json list = List();
  ASSERT_TRUE(list.is_array()) << list.dump();
  std::set<std::string> listed_ids;
  int64_t listed_pid = 0;
  for (const json& c : list) {
    listed_ids.insert(c.value("id", ""));
    if (c.value("id", "") == sandbox_id_) listed_pid = c.value("pid", int64_t{0});
  }
  ASSERT_GT(listed_pid, 0);

  ScanResult r = Scan();
  EXPECT_TRUE(r.success);
  ASSERT_EQ(r.sandboxes.size(), 1u) << "errors: " << testing::TotalErrors(reporter_);
  const SandboxInfo& sb = r.sandboxes[0];
  EXPECT_EQ(sb.id, sandbox_id_);
  EXPECT_EQ(sb.pid, listed_pid);
  EXPECT_GT(sb.pid_start_time, 0u);
  EXPECT_EQ(sb.pod_name, "real-pod");
  EXPECT_EQ(sb.pod_namespace, "real-ns");
  EXPECT_EQ(sb.pod_uid, "8d4f0c1e-real-uid");
  EXPECT_EQ(sb.cgroup.path, "/gve-state-test/" + sandbox_id_);
  std::set<std::string> scanned_ids;
  for (const ContainerInfo& c : sb.containers) {
    scanned_ids.insert(c.id);
    EXPECT_GT(c.gofer_pid, 0) << c.id;
    EXPECT_TRUE(IsGoferAlive("/proc", c.gofer_pid)) << c.id;
  }
  EXPECT_EQ(scanned_ids, listed_ids);
  ASSERT_EQ(sb.containers.size(), 2u);
  EXPECT_EQ(sb.containers[0].id, sandbox_id_);
  EXPECT_EQ(sb.containers[1].name, "worker");

  // Kill the sentry: its state files stay behind ("running"), liveness drops them.
  ASSERT_EQ(::kill(static_cast<pid_t>(listed_pid), SIGKILL), 0);
  for (int i = 0; i < 500 && IsSentryPidLive(listed_pid); ++i) std::this_thread::sleep_for(10ms);
  const uint64_t stale_before = testing::ErrorCount(reporter_, "not_found");
  r = Scan();
  EXPECT_TRUE(r.sandboxes.empty());
  // runsc 20221219 leaves the state files behind: then the drop was liveness.
  if (fs::exists(root_ + "/" + testing::StateFileName(sandbox_id_, sandbox_id_))) {
    EXPECT_EQ(testing::ErrorCount(reporter_, "not_found"), stale_before + 1);
  }
}

}  // namespace
}  // namespace gvisor_exporter
