#include "exporter/sources/runsc_state/state_file.h"

#include <gtest/gtest.h>

#include <string>

#include "exporter/sources/runsc_state/test_util.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using nlohmann::json;
using testing::ReadFixture;

constexpr char kRealSandbox[] =
    "exporter/sources/runsc_state/testdata/real_root/gvst-pod1_sandbox:gvst-pod1.state";
constexpr char kRealSub[] =
    "exporter/sources/runsc_state/testdata/real_root/gvst-app1_sandbox:gvst-pod1.state";
constexpr char kReal20240729[] =
    "exporter/sources/runsc_state/testdata/real_20240729_gvst-pod2_sandbox:gvst-pod2.state";

json RealSandboxJson() { return json::parse(ReadFixture(kRealSandbox)); }

StatusOr<ParsedStateFile> ParseJsonValue(const json& j) { return ParseStateFile(j.dump()); }

TEST(StateFileTest, ParsesRealSandboxStateFile) {
  auto p = ParseStateFile(ReadFixture(kRealSandbox));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->container_id, "gvst-pod1");
  EXPECT_EQ(p->sandbox_id, "gvst-pod1");
  EXPECT_EQ(p->status, "running");
  EXPECT_EQ(p->sandbox_pid, 5768);
  EXPECT_EQ(p->gofer_pid, 5764);
  EXPECT_EQ(p->created_at, "2026-11-28T18:07:10.406780346Z");
  EXPECT_EQ(p->annotations.container_type, "sandbox");
  EXPECT_EQ(p->annotations.sandbox_id, "gvst-pod1");
  EXPECT_EQ(p->annotations.sandbox_name, "state-pod");
  EXPECT_EQ(p->annotations.sandbox_namespace, "gve-ns");
  EXPECT_EQ(p->annotations.sandbox_uid, "0b7e3a52-7c1e-4e0a-9a51-0d2f1c3e4a5b");
  EXPECT_EQ(p->annotations.container_name, "");
  EXPECT_EQ(p->cgroup.kind, CgroupRef::Kind::kV1);
  EXPECT_EQ(p->cgroup.path, "/gve-state-test/gvst-pod1");
  EXPECT_EQ(p->control_socket_path, "");  // 20221219 uses an abstract socket
  EXPECT_TRUE(p->metric_metadata.empty());
  EXPECT_EQ(p->pod_name, "");
}

TEST(StateFileTest, ParsesRealSubcontainerStateFile) {
  auto p = ParseStateFile(ReadFixture(kRealSub));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->container_id, "gvst-app1");
  EXPECT_EQ(p->sandbox_id, "gvst-pod1");
  EXPECT_EQ(p->sandbox_pid, 5768);  // the sentry, shared by all containers
  EXPECT_EQ(p->gofer_pid, 5816);
  EXPECT_EQ(p->annotations.container_type, "container");
  EXPECT_EQ(p->annotations.container_name, "worker");
  EXPECT_EQ(p->annotations.image_name, "docker.io/library/busybox:1.36");
  EXPECT_EQ(p->cgroup.path, "/gve-state-test/gvst-pod1");  // the sandbox's, not compatCgroup
}

TEST(StateFileTest, NewerReleaseFields) {
  json j = RealSandboxJson();
  j["sandbox"]["controlSocketPath"] = "/run/containerd/runsc/k8s.io/runsc-gvst-pod1.sock";
  j["sandbox"]["metricMetadata"] = {{"platform", "systrap"}, {"network", "sandbox"}, {"bogus", 3}};
  j["sandbox"]["podName"] = "new-pod";
  j["sandbox"]["namespace"] = "new-ns";
  auto p = ParseJsonValue(j);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->control_socket_path, "/run/containerd/runsc/k8s.io/runsc-gvst-pod1.sock");
  EXPECT_EQ(p->metric_metadata.size(), 2u);  // non-string values are dropped
  EXPECT_EQ(p->metric_metadata["platform"], "systrap");
  EXPECT_EQ(p->pod_name, "new-pod");
  EXPECT_EQ(p->pod_namespace, "new-ns");
}

TEST(StateFileTest, ParsesReal20240729SandboxStateFile) {
  // runsc 0.0~20240729.0 (bookworm-backports): podName, namespace, metricMetadata
  // and controlSocketPath live in the "sandbox" object.
  auto p = ParseStateFile(ReadFixture(kReal20240729));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->container_id, "gvst-pod2");
  EXPECT_EQ(p->sandbox_id, "gvst-pod2");
  EXPECT_EQ(p->sandbox_pid, 28392);
  EXPECT_EQ(p->pod_name, "state-pod");
  EXPECT_EQ(p->pod_namespace, "gve-ns");
  EXPECT_EQ(p->control_socket_path, "/tmp/gve-state-cqo8t_ya/root/runsc-gvst-pod2.sock");
  EXPECT_EQ(p->metric_metadata["platform"], "systrap");
  EXPECT_EQ(p->metric_metadata["overlay"], "root:self");
  EXPECT_EQ(p->metric_metadata["network"], "none");
  EXPECT_EQ(p->metric_metadata["version"], "0.0~20240729.0");
  EXPECT_EQ(p->cgroup.kind, CgroupRef::Kind::kV1);
  EXPECT_EQ(p->cgroup.path, "/gve-state-test/gvst-pod2");
}

TEST(StateFileTest, TopLevelNewerFieldsAreNotRunscs) {
  // No release writes them at the top level (an earlier version of this parser
  // read them there and so never saw a real one).
  json j = RealSandboxJson();
  j["metricMetadata"] = {{"platform", "kvm"}};
  j["podName"] = "top-pod";
  auto p = ParseJsonValue(j);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->metric_metadata.empty());
  EXPECT_EQ(p->pod_name, "");
}

TEST(StateFileTest, CgroupKinds) {
  json j = RealSandboxJson();
  j["sandbox"]["cgroup"] = {
      {"cgroupv2", {{"mountpoint", "/sys/fs/cgroup"}, {"path", "kubepods/x"}}}};
  auto p = ParseJsonValue(j);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->cgroup.kind, CgroupRef::Kind::kV2);
  EXPECT_EQ(p->cgroup.path, "/kubepods/x");  // made absolute
  EXPECT_EQ(p->cgroup.mountpoint, "/sys/fs/cgroup");

  j["sandbox"]["cgroup"] = {
      {"cgroupsystemd",
       {{"mountpoint", "/sys/fs/cgroup"},
        {"path", "/kubepods.slice/kubepods-pod1.slice/cri-containerd-a.scope"},
        {"Name", "a"}}}};
  p = ParseJsonValue(j);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->cgroup.kind, CgroupRef::Kind::kSystemd);
  EXPECT_EQ(p->cgroup.path, "/kubepods.slice/kubepods-pod1.slice/cri-containerd-a.scope");

  // Without "path", systemd's slice naming gives it.
  j["sandbox"]["cgroup"] = {{"cgroupsystemd",
                             {{"Parent", "kubepods-besteffort.slice"},
                              {"ScopePrefix", "cri-containerd"},
                              {"Name", "a"}}}};
  p = ParseJsonValue(j);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->cgroup.path, "/kubepods.slice/kubepods-besteffort.slice/cri-containerd-a.scope");

  for (const json& none : {json{{"cgroupunknown", nullptr}}, json(nullptr),
                           json{{"cgroupv1", {{"name", ""}}}}, json{{"future", {{"x", 1}}}}}) {
    j["sandbox"]["cgroup"] = none;
    p = ParseJsonValue(j);
    ASSERT_TRUE(p.ok()) << none.dump();
    EXPECT_EQ(p->cgroup.kind, CgroupRef::Kind::kNone) << none.dump();
  }
  j["sandbox"].erase("cgroup");
  p = ParseJsonValue(j);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->cgroup.kind, CgroupRef::Kind::kNone);
}

TEST(StateFileTest, RejectsBadCgroupPaths) {
  json j = RealSandboxJson();
  for (const std::string& bad : {std::string("/kubepods/../../etc"), std::string("/a/./b"),
                                 std::string("/a\0b", 4), "/" + std::string(5000, 'a')}) {
    j["sandbox"]["cgroup"]["cgroupv1"]["name"] = bad;
    auto p = ParseJsonValue(j);
    ASSERT_FALSE(p.ok()) << bad.size();
    EXPECT_EQ(p.status().reason(), Reason::kInvalid);
  }
  j = RealSandboxJson();
  j["sandbox"]["controlSocketPath"] = "relative.sock";
  EXPECT_EQ(ParseJsonValue(j).status().reason(), Reason::kInvalid);
}

TEST(StateFileTest, RejectsBadIds) {
  for (const char* bad : {"../../etc", "a/b", "", "x y", "a:b"}) {
    json j = RealSandboxJson();
    j["id"] = bad;
    EXPECT_EQ(ParseJsonValue(j).status().reason(), Reason::kInvalid) << bad;
    j = RealSandboxJson();
    j["sandbox"]["id"] = bad;
    EXPECT_EQ(ParseJsonValue(j).status().reason(), Reason::kInvalid) << bad;
  }
  json j = RealSandboxJson();
  j.erase("id");
  EXPECT_EQ(ParseJsonValue(j).status().reason(), Reason::kParse);
  j = RealSandboxJson();
  j.erase("sandbox");
  EXPECT_EQ(ParseJsonValue(j).status().reason(), Reason::kParse);
  j = RealSandboxJson();
  j["id"] = 42;
  EXPECT_EQ(ParseJsonValue(j).status().reason(), Reason::kParse);
}

TEST(StateFileTest, MalformedInputIsAStatusNotACrash) {
  const std::string real = ReadFixture(kRealSandbox);
  EXPECT_EQ(ParseStateFile("").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseStateFile("{garbled").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseStateFile(real.substr(0, real.size() / 2)).status().reason(), Reason::kParse);
  EXPECT_EQ(ParseStateFile(real + "}").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseStateFile("[1,2]").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseStateFile("\"str\"").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseStateFile(std::string(100000, '[')).status().reason(), Reason::kTooLarge);
  EXPECT_EQ(ParseStateFile("{\"id\":\"\xff\xfe\"}").status().reason(), Reason::kParse);
}

TEST(StateFileTest, UnknownStatusAndBadPids) {
  json j = RealSandboxJson();
  j["status"] = "exploded";
  j["sandbox"]["pid"] = -1;
  j["goferPid"] = "7";
  auto p = ParseJsonValue(j);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, "unknown");
  EXPECT_EQ(p->sandbox_pid, 0);
  EXPECT_EQ(p->gofer_pid, 0);
  j["sandbox"]["pid"] = 1ll << 40;
  j["goferPid"] = 1.5;
  p = ParseJsonValue(j);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->sandbox_pid, 0);
  EXPECT_EQ(p->gofer_pid, 0);
  for (const char* s : {"creating", "created", "running", "paused", "stopped"}) {
    j["status"] = s;
    EXPECT_EQ(ParseJsonValue(j)->status, s);
  }
}

TEST(StateFileTest, LongAnnotationsAreTruncatedAtUtf8Boundary) {
  json j = RealSandboxJson();
  std::string e_acute_run;
  for (int i = 0; i < 1000; ++i) e_acute_run += "\xc3\xa9";  // 2000 bytes
  j["spec"]["annotations"]["io.kubernetes.cri.sandbox-name"] = "x" + e_acute_run;
  j["spec"]["annotations"]["io.kubernetes.cri.image-name"] = std::string(100000, 'i');
  auto p = ParseJsonValue(j);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->annotations.image_name.size(), kMaxAnnotationValueBytes);
  // 1 + 2k bytes fit in 1024 only for k = 511: the split sequence is dropped.
  EXPECT_EQ(p->annotations.sandbox_name.size(), 1023u);
  EXPECT_TRUE(json::accept(json(p->annotations.sandbox_name).dump()));
}

TEST(StateFileTest, SplitStateFileName) {
  std::string c, s;
  ASSERT_TRUE(SplitStateFileName("gvst-app1_sandbox:gvst-pod1.state", &c, &s));
  EXPECT_EQ(c, "gvst-app1");
  EXPECT_EQ(s, "gvst-pod1");
  ASSERT_TRUE(SplitStateFileName("a_sandbox_sandbox:b.state", &c, &s));
  EXPECT_EQ(c, "a_sandbox");  // ':' is not valid in ids, so the separator is unambiguous
  EXPECT_EQ(s, "b");
  EXPECT_FALSE(SplitStateFileName("gvst-app1_sandbox:gvst-pod1.lock", &c, &s));
  EXPECT_FALSE(SplitStateFileName("runsc-gvst-pod1.sock", &c, &s));
  EXPECT_FALSE(SplitStateFileName("plain.state", &c, &s));
}

TEST(StateFileTest, ValidateHostPath) {
  EXPECT_TRUE(ValidateHostPath("/").ok());
  EXPECT_TRUE(ValidateHostPath("/kubepods/burstable/pod1/abc").ok());
  EXPECT_TRUE(ValidateHostPath("/a/..b/c..").ok());
  EXPECT_FALSE(ValidateHostPath("relative").ok());
  EXPECT_FALSE(ValidateHostPath("/a/..").ok());
  EXPECT_FALSE(ValidateHostPath("/a/../b").ok());
  EXPECT_FALSE(ValidateHostPath(std::string_view("/a\0", 3)).ok());
}

}  // namespace
}  // namespace gvisor_exporter
