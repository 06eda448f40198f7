#include "exporter/sources/host/cgroup.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "exporter/sources/host/test_util.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using host_test::TempDir;
using testing::FixturePath;

constexpr char kCgroupV1[] = "exporter/sources/host/testdata/cgroup_v1";
constexpr char kCgroupV2[] = "exporter/sources/host/testdata/cgroup_v2";

CgroupRef V1(std::string path) { return CgroupRef{CgroupRef::Kind::kV1, std::move(path), ""}; }
CgroupRef V2(std::string path) {
  return CgroupRef{CgroupRef::Kind::kV2, std::move(path), "/sys/fs/cgroup"};
}

double Hz() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

// Every value CgroupReader reports for one cgroup.
struct CgroupValues {
  uint64_t memory_usage, memory_working_set, memory_rss, memory_cache, memory_shmem,
      memory_mapped_file;
  double cpu_usage, cpu_user, cpu_system;
};

// Reads `ref` below testdata/`fixture` and compares every value with `want`.
void ExpectCgroup(const std::string& fixture, CgroupLayout layout, const CgroupRef& ref,
                  const CgroupValues& want) {
  CgroupReader reader(FixturePath("exporter/sources/host/testdata/" + fixture));
  ASSERT_EQ(reader.layout(), layout);
  StatusOr<HostCgroup> cg = reader.Read(ref);
  ASSERT_TRUE(cg.ok()) << cg.status().ToString();
  EXPECT_EQ(cg->memory_usage_bytes, want.memory_usage);
  EXPECT_EQ(cg->memory_working_set_bytes, want.memory_working_set);
  EXPECT_EQ(cg->memory_rss_bytes, want.memory_rss);
  EXPECT_EQ(cg->memory_cache_bytes, want.memory_cache);
  EXPECT_EQ(cg->memory_shmem_bytes, want.memory_shmem);
  EXPECT_EQ(cg->memory_mapped_file_bytes, want.memory_mapped_file);
  EXPECT_DOUBLE_EQ(*cg->cpu_usage_seconds, want.cpu_usage);
  EXPECT_DOUBLE_EQ(*cg->cpu_user_seconds, want.cpu_user);
  EXPECT_DOUBLE_EQ(*cg->cpu_system_seconds, want.cpu_system);
}

// testdata/cgroup_v1: memory and cpuacct files of a real runsc sandbox's
// cgroup (v1 hybrid host, cgroupsPath /gve-host-test/gvhptrace).
TEST(CgroupReaderTest, V1RealFiles) {
  ExpectCgroup("cgroup_v1", CgroupLayout::kV1, V1("/gve-host-test/gvhptrace"),
               {.memory_usage = 11902976u,
                .memory_working_set = 11902976u - 4096u,
                .memory_rss = 9633792u,
                .memory_cache = 466944u,
                .memory_shmem = 462848u,
                .memory_mapped_file = 454656u,
                .cpu_usage = 0.128639194,
                .cpu_user = 7 / Hz(),
                .cpu_system = 5 / Hz()});
}

// testdata/cgroup_v2: written in the format of the kernel's
// Documentation/admin-guide/cgroup-v2.rst (no v2 host here).
TEST(CgroupReaderTest, V2Files) {
  ExpectCgroup("cgroup_v2", CgroupLayout::kV2, V2("/gve-host-test/sbv2"),
               {.memory_usage = 21102592u,
                .memory_working_set = 21102592u - 4096000u,
                .memory_rss = 9633792u,
                .memory_cache = 4620288u,
                .memory_shmem = 462848u,
                .memory_mapped_file = 454656u,
                .cpu_usage = 1.286391,
                .cpu_user = 0.7,
                .cpu_system = 0.586391});
}

TEST(CgroupReaderTest, V2WithoutMemoryControllerIsPartial) {
  StatusOr<HostCgroup> cg = CgroupReader(FixturePath(kCgroupV2)).Read(V2("/gve-host-test/nomem"));
  ASSERT_TRUE(cg.ok());
  EXPECT_FALSE(cg->memory_usage_bytes.has_value());
  EXPECT_FALSE(cg->memory_working_set_bytes.has_value());
  EXPECT_TRUE(cg->cpu_usage_seconds.has_value());
}

TEST(CgroupReaderTest, GoneCgroupIsNotFound) {
  EXPECT_EQ(CgroupReader(FixturePath(kCgroupV1)).Read(V1("/gve-host-test/gone")).status().reason(),
            Reason::kNotFound);
  EXPECT_EQ(CgroupReader(FixturePath(kCgroupV2)).Read(V2("/nope")).status().reason(),
            Reason::kNotFound);
  EXPECT_EQ(CgroupReader(FixturePath(kCgroupV1)).Read(CgroupRef{}).status().reason(),
            Reason::kNotFound);
  TempDir empty;
  CgroupReader none(empty.path());
  EXPECT_EQ(none.layout(), CgroupLayout::kNone);
  EXPECT_EQ(none.Read(V1("/a")).status().reason(), Reason::kNotFound);
}

TEST(CgroupReaderTest, RejectsUntrustedPaths) {
  CgroupReader reader(FixturePath(kCgroupV1));
  for (const char* bad :
       {"../../etc", "/gve-host-test/../../../etc", "/a/./b", "", "relative", "/x/.."}) {
    EXPECT_EQ(reader.Read(V1(bad)).status().reason(), Reason::kInvalid) << bad;
  }
  EXPECT_EQ(reader.Read(V1(std::string("/gve-host-test\0/x", 17))).status().reason(),
            Reason::kInvalid);
  EXPECT_EQ(reader.Read(V1("/" + std::string(5000, 'a'))).status().reason(), Reason::kInvalid);
}

TEST(CgroupReaderTest, SymlinkInPathIsRejected) {
  TempDir tmp;
  tmp.CopyTree(FixturePath(kCgroupV1), "cg");
  // A directory symlink planted where the sandbox's cgroup should be.
  std::filesystem::create_directory_symlink(tmp.path() + "/cg/memory/gve-host-test",
                                            tmp.path() + "/cg/memory/evil");
  StatusOr<HostCgroup> cg = CgroupReader(tmp.path() + "/cg").Read(V1("/evil/gvhptrace"));
  EXPECT_EQ(cg.status().reason(), Reason::kInvalid) << cg.status().ToString();
  // ... and a symlinked file (cgroupfs has none: planted, so nothing counts).
  const std::string dir = tmp.path() + "/cg/memory/gve-host-test/gvhptrace/";
  std::filesystem::remove(dir + "memory.usage_in_bytes");
  std::filesystem::create_symlink("/etc/passwd", dir + "memory.usage_in_bytes");
  cg = CgroupReader(tmp.path() + "/cg").Read(V1("/gve-host-test/gvhptrace"));
  EXPECT_EQ(cg.status().reason(), Reason::kInvalid) << cg.status().ToString();
}

TEST(CgroupReaderTest, HugeAndGarbledFiles) {
  TempDir tmp;
  tmp.CopyTree(FixturePath(kCgroupV1), "cg");
  const std::string mem = "cg/memory/gve-host-test/gvhptrace/";
  tmp.Write(mem + "memory.stat", std::string(1 << 20, 'x'));
  tmp.Write("cg/cpuacct/gve-host-test/gvhptrace/cpuacct.usage", "12abc\n");
  StatusOr<HostCgroup> cg = CgroupReader(tmp.path() + "/cg").Read(V1("/gve-host-test/gvhptrace"));
  ASSERT_TRUE(cg.ok());
  EXPECT_EQ(cg->memory_usage_bytes, 11902976u);
  EXPECT_EQ(cg->memory_working_set_bytes, 11902976u);  // inactive_file unknown: 0
  EXPECT_FALSE(cg->memory_rss_bytes.has_value());
  EXPECT_FALSE(cg->cpu_usage_seconds.has_value());
  EXPECT_TRUE(cg->cpu_user_seconds.has_value());
  // Working set never goes below 0.
  tmp.Write(mem + "memory.stat", "total_inactive_file 99999999999\n");
  cg = CgroupReader(tmp.path() + "/cg").Read(V1("/gve-host-test/gvhptrace"));
  EXPECT_EQ(cg->memory_working_set_bytes, 0u);
}

TEST(CgroupReaderTest, SystemdOnlyOnV2) {
  const CgroupRef sd{CgroupRef::Kind::kSystemd, "/gve-host-test/sbv2", "/sys/fs/cgroup"};
  EXPECT_TRUE(CgroupReader(FixturePath(kCgroupV2)).Read(sd).ok());
  EXPECT_EQ(CgroupReader(FixturePath(kCgroupV1)).Read(sd).status().reason(), Reason::kInvalid);
  TempDir tmp;
  tmp.CopyTree(FixturePath(kCgroupV2), "cg");
  std::filesystem::rename(tmp.path() + "/cg/gve-host-test/sbv2",
                          tmp.path() + "/cg/gve-host-test/x-sb.scope");
  std::filesystem::rename(tmp.path() + "/cg/gve-host-test", tmp.path() + "/cg/gve.slice");
  const CgroupRef raw{CgroupRef::Kind::kSystemd, "/gve.slice:x:sb", ""};
  EXPECT_TRUE(CgroupReader(tmp.path() + "/cg").Read(raw).ok());
}

TEST(SystemdCgroupPathTest, ExpandsLikeSystemd) {
  EXPECT_EQ(*SystemdCgroupPath("system.slice:docker:abc"), "/system.slice/docker-abc.scope");
  EXPECT_EQ(*SystemdCgroupPath("kubepods-burstable-podX.slice:cri-containerd:id"),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podX.slice/"
            "cri-containerd-id.scope");
  EXPECT_EQ(*SystemdCgroupPath("-.slice:p:n"), "/p-n.scope");
  for (const char* bad : {"system.slice:docker", "a:b:c:d", "nope:p:n", ".slice:p:n",
                          "a--b.slice:p:n", "-a.slice:p:n", "a-.slice:p:n", "a/b.slice:p:n",
                          "a.slice:p/q:n", "a.slice:p:", "a.slice:p:../x"}) {
    EXPECT_EQ(SystemdCgroupPath(bad).status().reason(), Reason::kInvalid) << bad;
  }
}

TEST(FindStatValueTest, ExactKeys) {
  uint64_t v = 0;
  EXPECT_TRUE(FindStatValue("rss_huge 1\nrss 2\n", "rss", &v));
  EXPECT_EQ(v, 2u);
  EXPECT_FALSE(FindStatValue("rss_huge 1\n", "rss", &v));
  EXPECT_FALSE(FindStatValue("rss x\n", "rss", &v));
  EXPECT_FALSE(FindStatValue("", "rss", &v));
}

}  // namespace
}  // namespace gvisor_exporter
