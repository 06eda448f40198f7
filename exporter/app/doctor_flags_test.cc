// Flags of `gvisor-exporter doctor`: the exporter's table, so the node flags
// they share mean and default the same.
#include <gtest/gtest.h>

#include "exporter/app/flags.h"

namespace gvisor_exporter {
namespace {

StatusOr<DoctorOptions> ParseDoctor(std::vector<std::string> args) {
  args.insert(args.begin(), "doctor");
  StatusOr<Flags> f = ParseFlags(args);
  if (!f.ok()) return f.status();
  if (!f->doctor) return InternalError("no doctor options");
  return *f->doctor;
}

TEST(DoctorFlagsTest, DefaultsAreTheExportersForSharedFlags) {
  StatusOr<DoctorOptions> o = ParseDoctor({});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  const Flags exporter = *ParseFlags({});
  EXPECT_EQ(o->containerd_config, "/etc/containerd/config.toml");
  EXPECT_EQ(o->runsc_path, "runsc");
  EXPECT_EQ(o->root_parents, std::vector<std::string>{"/run/containerd/runsc"});
  EXPECT_EQ(o->root_parents, exporter.runsc_root_parents);
  EXPECT_EQ(o->cri_endpoint, kDefaultCriEndpoint);
  EXPECT_EQ(o->cri_endpoint, exporter.cri_endpoint);
  EXPECT_EQ(o->devfs, exporter.devfs);
  EXPECT_EQ(o->procfs, exporter.procfs);
  EXPECT_EQ(o->output, "text");
  EXPECT_EQ(o->timeout, std::chrono::milliseconds(2000));
  EXPECT_FALSE(exporter.doctor.has_value());
}

TEST(DoctorFlagsTest, Flags) {
  StatusOr<DoctorOptions> o = ParseDoctor(
      {"--containerd.config=/c.toml", "--runsc.path", "/r", "--runsc.root=/a", "--runsc.root=/b",
       "--runsc.root=", "--runsc.root-parent=", "--runsc.root-parent=/p",
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
  EXPECT_TRUE(ParseDoctor({"--runsc.root-parent="})->root_parents.empty());
  EXPECT_EQ(ParseDoctor({"--containerd.config="})->containerd_config, "");
  // The exporter's duration grammar: fractions, compounds, hours.
  EXPECT_EQ(ParseDoctor({"--timeout=1.5s"})->timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(ParseDoctor({"--timeout=1m30s"})->timeout, std::chrono::seconds(90));
}

TEST(DoctorFlagsTest, UsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--output=yaml"},
                                             {"--timeout=soon"},
                                             {"--timeout=0s"},
                                             {"--timeout=1h"},  // over 10m: a run must end
                                             {"--nope=1"},
                                             {"stray"},
                                             {"--runsc.path"},
                                             {"--runsc.path="},
                                             {"--poll.interval=1s"}}) {  // an exporter flag
    StatusOr<DoctorOptions> o = ParseDoctor(args);
    ASSERT_FALSE(o.ok()) << args[0];
    EXPECT_EQ(o.status().message().rfind("doctor: ", 0), 0u) << o.status().message();
  }
  EXPECT_NE(ParseDoctor({"--output=yaml"}).status().message().find("--output must be text or json"),
            std::string::npos);
  // Exporter flags before the subcommand would be ignored: refused.
  StatusOr<Flags> before = ParseFlags({"--runsc.path=/r", "doctor"});
  ASSERT_FALSE(before.ok());
  EXPECT_NE(before.status().message().find("--runsc.path is not a doctor flag"), std::string::npos)
      << before.status().message();
}

TEST(DoctorFlagsTest, Help) {
  StatusOr<Flags> f = ParseFlags({"doctor", "--help"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->help);
  EXPECT_TRUE(f->doctor.has_value());
  const std::string usage = FlagsUsage(true);
  for (const char* flag : {"--containerd.config", "--runsc.root-parent", "--cri.endpoint",
                           "--output", "--timeout", "Exit code"}) {
    EXPECT_NE(usage.find(flag), std::string::npos) << flag << " in\n" << usage;
  }
  EXPECT_EQ(usage.find("--poll.interval"), std::string::npos) << usage;
  EXPECT_NE(FlagsUsage().find("doctor"), std::string::npos);
}

}  // namespace
}  // namespace gvisor_exporter
