#include "exporter/doctor/doctor.h"

#include <gtest/gtest.h>

#include "exporter/doctor/report.h"
#include "exporter/doctor/test_util.h"

namespace gvisor_exporter {
namespace {

using doctor::CheckStatus;
using doctor::testing::FixturePath;
using doctor::testing::TempDir;
using doctor::testing::WriteScript;

TEST(ParseDoctorArgsTest, Defaults) {
  StatusOr<DoctorOptions> o = ParseDoctorArgs({});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->containerd_config, "/etc/containerd/config.toml");
  EXPECT_EQ(o->runsc_path, "runsc");
  EXPECT_EQ(o->root_parents, std::vector<std::string>{"/run/containerd/runsc"});
  EXPECT_EQ(o->cri_endpoint, "unix:///run/containerd/containerd.sock");
  EXPECT_EQ(o->output, "text");
  EXPECT_EQ(o->timeout, std::chrono::milliseconds(2000));
}

TEST(ParseDoctorArgsTest, Flags) {
  StatusOr<DoctorOptions> o =
      ParseDoctorArgs({"--containerd.config=/c.toml", "--runsc.path", "/r", "--runsc.root=/a",
                       "--runsc.root=/b", "--runsc.root-parent=", "--runsc.root-parent=/p",
                       "--cri.endpoint=", "--path.devfs=/d", "--output=json", "--timeout=500ms"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->containerd_config, "/c.toml");
  EXPECT_EQ(o->runsc_path, "/r");
  EXPECT_EQ(o->roots, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(o->root_parents, std::vector<std::string>{"/p"});
  EXPECT_EQ(o->cri_endpoint, "");
  EXPECT_EQ(o->devfs, "/d");
  EXPECT_EQ(o->output, "json");
  EXPECT_EQ(o->timeout, std::chrono::milliseconds(500));
  EXPECT_TRUE(ParseDoctorArgs({"--runsc.root-parent="})->root_parents.empty());
  EXPECT_EQ(ParseDoctorArgs({"--timeout=1.5s"})->timeout, std::chrono::milliseconds(1500));
}

TEST(ParseDoctorArgsTest, UsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--output=yaml"},
                                             {"--timeout=soon"},
                                             {"--timeout=0s"},
                                             {"--nope=1"},
                                             {"stray"},
                                             {"--runsc.path"},
                                             {"--runsc.path="}}) {
    EXPECT_FALSE(ParseDoctorArgs(args).ok()) << args[0];
    EXPECT_EQ(RunDoctor(args), 2) << args[0];
  }
}

// The whole run on fixtures: a config with a gVisor handler whose runsc.toml
// turns debug on, a fake runsc, a root with no live sandbox, CRI off.
TEST(RunDoctorChecksTest, FixtureNode) {
  TempDir dir("gve-doctor");
  const std::string runsc =
      WriteScript(dir, "runsc", "echo 'runsc version 0.0~20221219.0'; echo 'spec: 1.0.2-dev'");
  dir.Write("runsc.toml", "binary_name = \"" + runsc + "\"\nroot = \"" + dir.Sub("state") +
                              "\"\n[runsc_config]\n  platform = \"ptrace\"\n  debug = \"true\"\n");
  dir.MakeDir("state/k8s.io");
  dir.Write("config.toml",
            "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc]\n"
            "  runtime_type = \"io.containerd.runsc.v1\"\n"
            "  pod_annotations = [\"gvisor-exporter.io/*\"]\n"
            "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc.options]\n"
            "  ConfigPath = \"" +
                dir.Sub("runsc.toml") + "\"\n");
  StatusOr<DoctorOptions> o = ParseDoctorArgs(
      {"--containerd.config=" + dir.Sub("config.toml"), "--runsc.path=" + runsc,
       "--runsc.root-parent=", "--cri.endpoint=", "--path.devfs=" + dir.Sub("dev")});
  ASSERT_TRUE(o.ok());
  std::vector<doctor::CheckResult> checks = RunDoctorChecks(*o);
  std::map<std::string, doctor::CheckResult> by_name;
  for (const doctor::CheckResult& c : checks) by_name.emplace(c.name, c);
  EXPECT_EQ(by_name.at("runsc binary").status, CheckStatus::kOk);
  EXPECT_EQ(by_name.at("gvisor handlers").data["handlers"], nlohmann::json({"runsc"}));
  EXPECT_EQ(by_name.at("runsc.toml runsc").status, CheckStatus::kWarn);
  EXPECT_EQ(by_name.at("runsc roots").data["roots"][0]["path"], dir.Sub("state/k8s.io"));
  EXPECT_EQ(by_name.at("sandboxes").data["count"], 0);
  EXPECT_EQ(by_name.at("kvm").status, CheckStatus::kOk);
  EXPECT_EQ(by_name.at("cri endpoint").status, CheckStatus::kOk);
  EXPECT_EQ(doctor::ExitCode(checks), 0);

  // The same node without runsc: a FAIL, exit code 1.
  o->runsc_path = dir.Sub("no-runsc");
  EXPECT_EQ(doctor::ExitCode(RunDoctorChecks(*o)), 1);
}

}  // namespace
}  // namespace gvisor_exporter
