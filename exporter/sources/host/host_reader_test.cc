#include "exporter/sources/host/host_reader.h"

#include <gtest/gtest.h>

#include "exporter/sources/host/test_util.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using host_test::TempDir;
using testing::FixturePath;

constexpr char kCgroupV1[] = "exporter/sources/host/testdata/cgroup_v1";
constexpr char kProcPtrace[] = "exporter/sources/host/testdata/proc_ptrace";

// The real sandbox captured in testdata/proc_ptrace and testdata/cgroup_v1.
SandboxInfo RealSandbox() {
  SandboxInfo sb;
  sb.id = "gvhptrace";
  sb.pid = 8680;
  sb.pid_start_time = 42368;
  sb.cgroup = CgroupRef{CgroupRef::Kind::kV1, "/gve-host-test/gvhptrace", ""};
  ContainerInfo c;
  c.id = "gvhptrace";
  c.gofer_pid = 8676;
  sb.containers.push_back(c);
  return sb;
}

HostReaderOptions Options(const std::string& proc_root) {
  HostReaderOptions o;
  o.proc.proc_root = proc_root;
  o.cgroup_root = FixturePath(kCgroupV1);
  o.runsc_version = "0.0~20221219.0";
  return o;
}

TEST(HostReaderTest, RealSandbox) {
  HostReader reader(Options(FixturePath(kProcPtrace)));
  StatusOr<std::vector<HostProcess>> procs = reader.Processes(RealSandbox());
  ASSERT_TRUE(procs.ok()) << procs.status().ToString();
  ASSERT_EQ(procs->size(), 5u);
  EXPECT_EQ((*procs)[0].role, ProcessRole::kSentry);
  EXPECT_EQ((*procs)[1].container_id, "gvhptrace");

  StatusOr<HostCgroup> cg = reader.Cgroup(RealSandbox());
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(cg->memory_usage_bytes, 11902976u);

  StatusOr<SandboxPlatform> p = reader.Platform(RealSandbox());
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->platform, "ptrace");
  EXPECT_EQ(p->network, "none");
  EXPECT_EQ(p->source, "cmdline");
}

TEST(HostReaderTest, GoneSentryIsNotFound) {
  SandboxInfo sb = RealSandbox();
  sb.pid_start_time = 7;  // pid 8680 now belongs to someone else
  HostReader reader(Options(FixturePath(kProcPtrace)));
  EXPECT_EQ(reader.Processes(sb).status().reason(), Reason::kNotFound);
  EXPECT_EQ(reader.Platform(sb).status().reason(), Reason::kNotFound);
  // Newer state files still say how the sandbox was configured.
  sb.metric_metadata = {{"platform", "systrap"}, {"network", "host"}, {"overlay", "root:self"}};
  StatusOr<SandboxPlatform> p = reader.Platform(sb);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->platform, "systrap");
  EXPECT_EQ(p->source, "metadata");
}

TEST(HostReaderTest, MetadataMergedWithCmdline) {
  SandboxInfo sb = RealSandbox();
  sb.metric_metadata = {{"platform", "systrap"}, {"version", "release-20230621.0"}};
  HostReaderOptions o = Options(FixturePath(kProcPtrace));
  o.runsc_version = "";  // falls back to metadata "version": overlay default root:self
  StatusOr<SandboxPlatform> p = HostReader(o).Platform(sb);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->platform, "systrap");
  EXPECT_EQ(p->network, "none");
  EXPECT_EQ(p->overlay, "root:self");
  EXPECT_EQ(p->source, "metadata+cmdline");
}

TEST(HostReaderTest, BrokenNonSentryIsReportedAndSkipped) {
  TempDir tmp;
  tmp.CopyTree(FixturePath(kProcPtrace), "proc");
  tmp.Write("proc/8676/smaps_rollup", "garbage");
  ErrorReporter errors;
  HostReader reader(Options(tmp.path() + "/proc"), &errors);
  StatusOr<std::vector<HostProcess>> procs = reader.Processes(RealSandbox());
  ASSERT_TRUE(procs.ok());
  EXPECT_EQ(procs->size(), 4u);
  EXPECT_EQ((errors.Counts()[{"procfs", "parse"}]), 1u);
  // A broken sentry fails the whole read.
  tmp.Write("proc/8680/smaps_rollup", "garbage");
  EXPECT_EQ(reader.Processes(RealSandbox()).status().reason(), Reason::kParse);
}

}  // namespace
}  // namespace gvisor_exporter
