#include "exporter/sources/host/platform.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exporter/sources/host/test_util.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using host_test::TempDir;
using ::testing::ElementsAre;
using testing::ReadFixture;

constexpr char kDebian[] = "0.0~20221219.0";

std::vector<std::string> Cmdline(const std::string& name) {
  return SplitCmdline(ReadFixture("exporter/sources/host/testdata/cmdline/" + name + ".cmdline"));
}

SandboxPlatform FromSentry(const std::string& id, std::string_view version = kDebian) {
  return PlatformFromCmdline(Cmdline("sentry-" + id), version);
}

TEST(PlatformFromCmdlineTest, RealPtraceSentryGetsReleaseDefaults) {
  SandboxPlatform p = FromSentry("gvhptrace");
  EXPECT_EQ(p.platform, "ptrace");
  EXPECT_EQ(p.network, "none");
  EXPECT_EQ(p.file_access, "exclusive");
  EXPECT_EQ(p.overlay, "none");
  EXPECT_FALSE(p.debug);
  EXPECT_FALSE(p.strace);
  EXPECT_FALSE(p.pod_init_config);
  EXPECT_EQ(p.source, "cmdline");
}

TEST(PlatformFromCmdlineTest, RealSentriesWithFlags) {
  EXPECT_EQ(FromSentry("gvhkvm").platform, "kvm");
  EXPECT_EQ(PlatformFromCmdline(Cmdline("constructed-sentry-systrap"), kDebian).platform,
            "systrap");
  EXPECT_EQ(FromSentry("gvhnethost").network, "host");
  EXPECT_TRUE(FromSentry("gvhdebug").debug);  // written as --debug=true
  EXPECT_FALSE(FromSentry("gvhdebug").strace);
  EXPECT_TRUE(FromSentry("gvhstrace").strace);
  EXPECT_EQ(FromSentry("gvhshared").file_access, "shared");
  EXPECT_EQ(FromSentry("gvhoverlay").overlay, "all:memory");  // --overlay=true
  EXPECT_EQ(FromSentry("gvhov2").overlay, "root:memory");
  EXPECT_TRUE(FromSentry("gvhpodinit").pod_init_config);
}

TEST(PlatformFromCmdlineTest, FlagsAfterTheSubcommandDoNotCount) {
  // The boot subcommand's own flags (--cpu-num 2, --pod-init-config-fd=8,
  // ...) follow "boot"; only global flags describe the configuration.
  SandboxPlatform p = PlatformFromCmdline(
      {"runsc-sandbox", "--network=host", "boot", "--platform=kvm", "--debug", "id"}, kDebian);
  EXPECT_EQ(p.platform, "ptrace");
  EXPECT_EQ(p.network, "host");
  EXPECT_FALSE(p.debug);
}

TEST(PlatformFromCmdlineTest, GoFlagSyntax) {
  SandboxPlatform p = PlatformFromCmdline({"runsc", "-platform", "kvm", "--debug", "-strace=false",
                                           "--network", "host", "-file-access=shared", "boot"},
                                          kDebian);
  EXPECT_EQ(p.platform, "kvm");
  EXPECT_TRUE(p.debug);
  EXPECT_FALSE(p.strace);
  EXPECT_EQ(p.network, "host");
  EXPECT_EQ(p.file_access, "shared");
  // Last occurrence wins; "--" ends the flags.
  p = PlatformFromCmdline({"runsc", "--platform=kvm", "--platform=ptrace", "--", "--debug"},
                          kDebian);
  EXPECT_EQ(p.platform, "ptrace");
  EXPECT_FALSE(p.debug);
  // A boolean never takes the next argument as its value.
  p = PlatformFromCmdline({"runsc", "--debug", "boot", "--strace"}, kDebian);
  EXPECT_TRUE(p.debug);
  EXPECT_FALSE(p.strace);
  // Bad syntax: Go refuses it, so nothing after it is believed.
  p = PlatformFromCmdline({"runsc", "---platform=kvm", "--debug", "boot"}, kDebian);
  EXPECT_EQ(p.platform, "ptrace");
  EXPECT_FALSE(p.debug);
}

TEST(PlatformFromCmdlineTest, ReleaseDefaults) {
  const std::vector<std::string> bare = {"runsc-sandbox", "boot", "id"};
  EXPECT_EQ(PlatformFromCmdline(bare, "release-20230605.0").platform, "ptrace");
  EXPECT_EQ(PlatformFromCmdline(bare, "release-20230621.0").platform, "systrap");
  EXPECT_EQ(PlatformFromCmdline(bare, "release-20230306.0").overlay, "none");
  EXPECT_EQ(PlatformFromCmdline(bare, "release-20230313.0").overlay, "root:self");
  EXPECT_EQ(PlatformFromCmdline(bare, "").platform, "unknown");
  EXPECT_EQ(PlatformFromCmdline(bare, "").overlay, "unknown");
  EXPECT_EQ(PlatformFromCmdline(bare, "").network, "sandbox");
}

TEST(PlatformFromCmdlineTest, ValuesAreLabelSafe) {
  SandboxPlatform p = PlatformFromCmdline(
      {"runsc", "--platform=KVM", "--network=a\"b", "--overlay2=root:/var/lib/x,size=1g", "boot"},
      kDebian);
  EXPECT_EQ(p.platform, "kvm");
  EXPECT_EQ(p.network, "unknown");
  EXPECT_EQ(p.overlay, "root:dir");
  p = PlatformFromCmdline(
      {"runsc", "--overlay2=all:dir=/tmp", "--platform=" + std::string(40, 'x'), "boot"}, kDebian);
  EXPECT_EQ(p.overlay, "all:dir");
  EXPECT_EQ(p.platform, "unknown");
  EXPECT_EQ(PlatformFromCmdline({"runsc", "--overlay2=bogus", "boot"}, kDebian).overlay, "unknown");
  EXPECT_EQ(PlatformFromCmdline({"runsc", "--overlay2=none", "boot"}, kDebian).overlay, "none");
}

TEST(RunscReleaseDateTest, Formats) {
  EXPECT_EQ(RunscReleaseDate("0.0~20221219.0"), 20221219u);
  EXPECT_EQ(RunscReleaseDate("release-20230621.0"), 20230621u);
  EXPECT_EQ(RunscReleaseDate("runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n"), 20221219u);
  EXPECT_EQ(RunscReleaseDate("v0.0.0-20240125213753-2b99a0a2b4e0"), 20240125u);
  EXPECT_EQ(RunscReleaseDate("0.0.0"), 0u);
  EXPECT_EQ(RunscReleaseDate("99999999"), 0u);
  EXPECT_EQ(RunscReleaseDate(""), 0u);
}

TEST(PlatformFromMetadataTest, NewerStateFiles) {
  // Keys and value forms of Config.MetricMetadata() (runsc/config/config.go).
  SandboxPlatform p = PlatformFromMetadata({{"platform", "systrap"},
                                            {"network", "sandbox"},
                                            {"overlay", "root:self"},
                                            {"fsmode", "directfs"},
                                            {"version", "release-20240325.0"}});
  EXPECT_EQ(p.platform, "systrap");
  EXPECT_EQ(p.network, "sandbox");
  EXPECT_EQ(p.overlay, "root:self");
  EXPECT_EQ(p.file_access, "");
  EXPECT_EQ(p.source, "metadata");
  EXPECT_EQ(PlatformFromMetadata({}).platform, "");

  SandboxPlatform merged = MergePlatform(p, FromSentry("gvhshared"));
  EXPECT_EQ(merged.platform, "systrap");
  EXPECT_EQ(merged.network, "sandbox");
  EXPECT_EQ(merged.file_access, "shared");
  EXPECT_EQ(merged.source, "metadata+cmdline");
}

TEST(CmdlineTest, SplitAndSubcommand) {
  EXPECT_THAT(SplitCmdline(std::string("a\0b\0\0c\0", 7)), ElementsAre("a", "b", "", "c"));
  EXPECT_THAT(SplitCmdline("no-nul"), ElementsAre("no-nul"));
  EXPECT_TRUE(SplitCmdline("").empty());
  EXPECT_EQ(SplitCmdline(std::string(10, '\0'), 3).size(), 3u);
  std::vector<std::string> gofer = Cmdline("gofer-gvhdebug");
  ASSERT_LT(SubcommandIndex(gofer), gofer.size());
  EXPECT_EQ(gofer[SubcommandIndex(gofer)], "gofer");
  std::vector<std::string> sentry = Cmdline("sentry-gvhpodinit");
  EXPECT_EQ(sentry[SubcommandIndex(sentry)], "boot");
  EXPECT_EQ(SubcommandIndex({"runsc", "--root", "/r"}), 3u);
  EXPECT_EQ(SubcommandIndex({"runsc", "--debug-log-fd", "-1", "boot"}), 3u);
  EXPECT_EQ(SubcommandIndex({"runsc", "--new-bool", "boot"}), 2u);
  EXPECT_EQ(SubcommandIndex({}), 0u);
}

TEST(CmdlineTest, ReadCmdlineOfThisProcess) {
  StatusOr<std::vector<std::string>> argv = ReadCmdline("/proc", getpid());
  ASSERT_TRUE(argv.ok());
  ASSERT_FALSE(argv->empty());
  EXPECT_NE((*argv)[0].find("host_test"), std::string::npos);
  EXPECT_EQ(ReadCmdline("/proc", 0).status().reason(), Reason::kInvalid);
  TempDir tmp;
  EXPECT_EQ(ReadCmdline(tmp.path(), 1).status().reason(), Reason::kNotFound);
  tmp.Write("7/cmdline", std::string(size_t{200} * 1024, 'a'));
  EXPECT_EQ(ReadCmdline(tmp.path(), 7).status().reason(), Reason::kTooLarge);
}

TEST(ProbeNodeTest, FakeDevRoots) {
  TempDir tmp;
  NodeInfo n = ProbeNode("0.0~20221219.0", tmp.path());
  EXPECT_EQ(n.runsc_version, "0.0~20221219.0");
  EXPECT_FALSE(n.kvm_device_present);
  tmp.Write("kvm", "not a device");
  n = ProbeNode("", tmp.path());
  EXPECT_FALSE(n.kvm_device_present);
  EXPECT_FALSE(n.kvm_usable);
}

TEST(ProbeNodeTest, RealDev) {
  struct stat st {};
  if (stat("/dev/kvm", &st) != 0) GTEST_SKIP() << "no /dev/kvm on this host";
  NodeInfo n = ProbeNode("x");
  EXPECT_TRUE(n.kvm_device_present);
  // Root can open it; whether the API answers 12 is what the probe measures.
  if (geteuid() == 0) {
    EXPECT_TRUE(n.kvm_usable);
  }
}

}  // namespace
}  // namespace gvisor_exporter
