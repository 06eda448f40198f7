#include "exporter/doctor/doctor.h"

#include <gtest/gtest.h>

#include "exporter/doctor/report.h"
#include "exporter/doctor/test_util.h"

namespace gvisor_exporter {
namespace {

using doctor::CheckStatus;
using doctor::testing::TempDir;
using doctor::testing::WriteScript;

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
  // (How flags fill these: exporter/app/doctor_flags_test.cc.)
  DoctorOptions o;
  o.containerd_config = dir.Sub("config.toml");
  o.runsc_path = runsc;
  o.devfs = dir.Sub("dev");
  o.procfs = "/proc";
  std::vector<doctor::CheckResult> checks = RunDoctorChecks(o);
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
  o.runsc_path = dir.Sub("no-runsc");
  EXPECT_EQ(doctor::ExitCode(RunDoctorChecks(o)), 1);
}

}  // namespace
}  // namespace gvisor_exporter
