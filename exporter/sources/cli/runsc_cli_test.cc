// RunscCli against fake `runsc` programs (real scripts in a temp dir) that
// print real captured output or misbehave.
#include "exporter/sources/cli/runsc_cli.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "exporter/testing/fixtures.h"
#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

using testing::ReadFile;

const std::string kTestdata = testing::FixturePath("exporter/sources/cli/testdata") + "/";

bool NoChildren() {
  int st;
  return waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD;
}

class RunscCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gve-cli-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes an executable fake runsc whose body is `script` (sh); every
  // invocation appends its argv, one per line, to argv.log.
  std::string FakeRunsc(const std::string& script) {
    std::string path = dir_ + "/runsc";
    std::ofstream(path) << "#!/bin/sh\nprintf '%s\\n' \"$@\" >> " << dir_ << "/argv.log\n"
                        << script << "\n";
    chmod(path.c_str(), 0755);
    return path;
  }

  // A fake that replays the real captures of a sandbox named cmsb.
  std::string ReplayingRunsc() {
    return FakeRunsc(
        "case \"$3\" in\n"
        "  events) cat " +
        kTestdata +
        "events-stats-pause-of-multi.txt ;;\n"
        "  usage) if [ \"$4\" = -full ]; then cat " +
        kTestdata +
        "usage-full.txt;"
        " else cat " +
        kTestdata +
        "usage.txt; fi ;;\n"
        "  *) cat " +
        kTestdata +
        "version.txt ;;\n"
        "esac");
  }

  RunscCli Cli(const std::string& path, int timeout_ms = 5000) {
    RunscCliOptions o;
    o.runsc_path = path;
    o.timeout = milliseconds(timeout_ms);
    return RunscCli(o);
  }

  SandboxInfo Sandbox(const std::string& id = "cmsb") {
    SandboxInfo sb;
    sb.root = "/run/containerd/runsc/k8s.io";
    sb.id = id;
    return sb;
  }

  std::string ArgvLog() { return ReadFile(dir_ + "/argv.log"); }

  std::string dir_;
};

TEST_F(RunscCliTest, CollectFromRealOutputs) {
  RunscCli cli = Cli(ReplayingRunsc());
  auto u = cli.Collect(Sandbox());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->path, StatsPath::kCli);
  EXPECT_EQ(u->memory->total, 4042752u);
  EXPECT_EQ(u->memory->unknown, 872448u);
  EXPECT_FALSE(u->memory->full);
  EXPECT_EQ(u->pids, 2u);
  EXPECT_TRUE(u->container_cpu_ns.empty());  // no CPU on the CLI path
  EXPECT_EQ(ArgvLog(),
            "--root\n/run/containerd/runsc/k8s.io\nevents\n-stats\ncmsb\n"
            "--root\n/run/containerd/runsc/k8s.io\nusage\ncmsb\n");
}

TEST_F(RunscCliTest, FullMemoryPassesDashFull) {
  RunscCli cli = Cli(ReplayingRunsc());
  auto u = cli.Collect(Sandbox(), /*full_memory=*/true);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_TRUE(u->memory->full);
  EXPECT_EQ(u->memory->anonymous, 860160u);
  EXPECT_NE(ArgvLog().find("usage\n-full\ncmsb\n"), std::string::npos);
}

TEST_F(RunscCliTest, EventForAnotherIdIsRejected) {
  RunscCli cli = Cli(ReplayingRunsc());
  EXPECT_EQ(cli.Collect(Sandbox("other")).status().reason(), Reason::kParse);
}

TEST_F(RunscCliTest, HangingRunscIsKilledAtTheTimeout) {
  RunscCli cli = Cli(FakeRunsc("exec sleep 30"), 300);
  const auto start = std::chrono::steady_clock::now();
  auto u = cli.Collect(Sandbox());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(u.status().reason(), Reason::kTimeout) << u.status().ToString();
  EXPECT_NE(u.status().message().find("runsc events"), std::string::npos);
  EXPECT_LT(elapsed, milliseconds(400));
  EXPECT_TRUE(NoChildren());
}

TEST_F(RunscCliTest, GarbageOutputIsAParseError) {
  RunscCli cli = Cli(FakeRunsc("echo 'I am not runsc'"));
  EXPECT_EQ(cli.Collect(Sandbox()).status().reason(), Reason::kParse);
  EXPECT_EQ(cli.Version().status().reason(), Reason::kParse);
}

TEST_F(RunscCliTest, UnknownSandboxIsNotFound) {
  // Exactly what runsc 20221219 prints for an unknown id (exit 128).
  RunscCli cli =
      Cli(FakeRunsc("cat " + kTestdata + "events-stats-unknown-id.stderr >&2; exit 128"));
  auto u = cli.Collect(Sandbox());
  EXPECT_EQ(u.status().reason(), Reason::kNotFound) << u.status().ToString();
  EXPECT_NE(u.status().message().find("loading sandbox: file does not exist"), std::string::npos);
}

TEST_F(RunscCliTest, OtherFailuresCarryStderr) {
  RunscCli cli = Cli(FakeRunsc("printf 'boom\\033[31m\\nsecond line\\n' >&2; exit 1"));
  auto u = cli.Collect(Sandbox());
  EXPECT_EQ(u.status().reason(), Reason::kRemote);
  EXPECT_NE(u.status().message().find("runsc events: boom?[31m"), std::string::npos)
      << u.status().message();
  EXPECT_EQ(u.status().message().find("second line"), std::string::npos);
}

TEST_F(RunscCliTest, SilentFailureSaysHow) {
  EXPECT_NE(Cli(FakeRunsc("exit 3")).Collect(Sandbox()).status().message().find("exit code 3"),
            std::string::npos);
  EXPECT_NE(Cli(FakeRunsc("kill -9 $$")).Collect(Sandbox()).status().message().find("signal 9"),
            std::string::npos);
}

TEST_F(RunscCliTest, MissingBinaryIsNotFound) {
  RunscCli cli = Cli(dir_ + "/no-runsc-here");
  auto u = cli.Collect(Sandbox());
  EXPECT_EQ(u.status().reason(), Reason::kNotFound);
  EXPECT_NE(u.status().message().find("no-runsc-here"), std::string::npos);
  EXPECT_EQ(cli.Version().status().reason(), Reason::kNotFound);
}

TEST_F(RunscCliTest, HugeOutputIsTooLarge) {
  RunscCliOptions o;
  o.runsc_path = FakeRunsc("exec yes");
  o.max_output_bytes = size_t{64} * 1024;
  EXPECT_EQ(RunscCli(o).Collect(Sandbox()).status().reason(), Reason::kTooLarge);
}

TEST_F(RunscCliTest, BadIdsAndRootsNeverReachRunsc) {
  RunscCli cli = Cli(ReplayingRunsc());
  for (const char* id : {"-flag", "../x", "", "a b"}) {
    EXPECT_EQ(cli.Collect(Sandbox(id)).status().reason(), Reason::kInvalid) << id;
  }
  SandboxInfo relative = Sandbox();
  relative.root = "relative/root";
  EXPECT_EQ(cli.Collect(relative).status().reason(), Reason::kInvalid);
  EXPECT_FALSE(fs::exists(dir_ + "/argv.log"));
}

TEST_F(RunscCliTest, Version) {
  auto v = Cli(ReplayingRunsc()).Version();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, "0.0~20221219.0");
  EXPECT_EQ(ArgvLog(), "--version\n");
}

TEST(ParseRunscVersionTest, Lines) {
  EXPECT_EQ(*ParseRunscVersion("runsc version release-20240401.0\nspec: 1.1.0\n"),
            "release-20240401.0");
  EXPECT_EQ(*ParseRunscVersion("runsc version 0.0~20221219.0\r\n"), "0.0~20221219.0");
  for (const char* bad :
       {"", "runsc version ", "runc version 1.1", "runsc version a b", "runsc version \x01"}) {
    EXPECT_EQ(ParseRunscVersion(bad).status().reason(), Reason::kParse) << bad;
  }
  EXPECT_FALSE(ParseRunscVersion("runsc version " + std::string(100, 'x')).ok());
}

}  // namespace
}  // namespace gvisor_exporter
