#include "exporter/app/flags.h"

#include <gtest/gtest.h>

namespace gvisor_exporter {
namespace {

TEST(FlagsTest, Defaults) {
  auto f = ParseFlags({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->listen_address, ":9787");
  EXPECT_EQ(f->telemetry_path, "/metrics");
  EXPECT_EQ(f->runsc_root_parents, std::vector<std::string>{"/run/containerd/runsc"});
  EXPECT_TRUE(f->cli_fallback);
  EXPECT_EQ(f->poll_interval.count(), 5000);
  EXPECT_EQ(f->web_config_file, "");  // plain HTTP
}

TEST(FlagsTest, WebConfigFile) {
  auto f = ParseFlags({"--web.config.file=/etc/gvisor-exporter/web.yml"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->web_config_file, "/etc/gvisor-exporter/web.yml");
  auto spaced = ParseFlags({"--web.config.file", "web.yml"});
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(spaced->web_config_file, "web.yml");
  EXPECT_FALSE(ParseFlags({"--web.config.file"}).ok());  // needs a value
  EXPECT_NE(FlagsUsage().find("--web.config.file"), std::string::npos);
}

TEST(FlagsTest, ParsesEveryForm) {
  auto f = ParseFlags({"--web.listen-address=127.0.0.1:1234", "--web.telemetry-path", "/m",
                       "--runsc.root=/a", "--runsc.root=/b",
                       "--runsc.root-parent=", "--poll.interval=1m30s", "--no-runsc.cli-fallback",
                       "--collector.memory.full=false", "--log.format=json",
                       "--control.timeout=250ms", "--poll.concurrency=8"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->listen_address, "127.0.0.1:1234");
  EXPECT_EQ(f->telemetry_path, "/m");
  EXPECT_EQ(f->runsc_roots, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_TRUE(f->runsc_root_parents.empty());
  EXPECT_EQ(f->poll_interval.count(), 90000);
  EXPECT_FALSE(f->cli_fallback);
  EXPECT_FALSE(f->memory_full);
  EXPECT_EQ(f->log_format, "json");
  EXPECT_EQ(f->control_timeout.count(), 250);
  EXPECT_EQ(f->poll_concurrency, 8);
}

TEST(FlagsTest, RejectsBadInputWithAMessage) {
  EXPECT_FALSE(ParseFlags({"--nope"}).ok());
  EXPECT_FALSE(ParseFlags({"--log.level=loud"}).ok());
  EXPECT_FALSE(ParseFlags({"--poll.interval=5"}).ok());
  EXPECT_FALSE(ParseFlags({"--poll.interval=0s"}).ok());
  EXPECT_FALSE(ParseFlags({"--poll.concurrency=0"}).ok());
  EXPECT_FALSE(ParseFlags({"--web.listen-address"}).ok());
  EXPECT_FALSE(ParseFlags({"stray"}).ok());
  EXPECT_FALSE(ParseFlags({"--version=maybe"}).ok());
  EXPECT_FALSE(ParseDuration("5x").ok());
  EXPECT_FALSE(ParseDuration("s").ok());
  EXPECT_FALSE(ParseDuration(".s").ok());  // strtod finds no number: an error, not an exception
  EXPECT_FALSE(ParseDuration("1.2.3s").ok());
  EXPECT_FALSE(ParseFlags({"--collector.host.pss-max-age=soon"}).ok());
}

TEST(FlagsTest, PssMaxAgeDefaultsTo30sAndAcceptsZero) {
  EXPECT_EQ(ParseFlags({})->pss_max_age, std::chrono::minutes(5));
  EXPECT_EQ(ParseFlags({"--collector.host.pss-max-age=0s"})->pss_max_age.count(), 0);
  EXPECT_EQ(ParseFlags({"--collector.host.pss-max-age=2m"})->pss_max_age, std::chrono::minutes(2));
}

TEST(FlagsTest, EmptyValueDoesNotTakeTheNextArgument) {
  auto f = ParseFlags({"--cri.endpoint=", "--poll.interval=2s", "--web.config.file", ""});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->cri_endpoint, "");
  EXPECT_EQ(f->poll_interval, std::chrono::seconds(2));
  EXPECT_EQ(f->web_config_file, "");
}

TEST(FlagsTest, LastUseWinsAndBooleansNegate) {
  auto f = ParseFlags({"--web.listen-address=:1", "--web.listen-address=:2", "--no-collector.host",
                       "--collector.host", "--syscalls.all=true", "--no-syscalls.errors",
                       "--poll.interval=1h"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->listen_address, ":2");
  EXPECT_TRUE(f->host);
  EXPECT_TRUE(f->syscalls_all);
  EXPECT_FALSE(f->syscalls_errors);
  EXPECT_EQ(f->poll_interval, std::chrono::hours(1));
}

TEST(FlagsTest, HelpIsGeneratedFromTheTable) {
  for (const char* help : {"--help", "-h"}) {
    auto f = ParseFlags({help});
    ASSERT_TRUE(f.ok()) << help;
    EXPECT_TRUE(f->help);
    EXPECT_FALSE(f->doctor.has_value());
  }
  const std::string usage = FlagsUsage();
  for (const char* text : {"--web.listen-address ADDR=:9787", "--poll.interval DURATION=5s",
                           "--kubernetes.refresh DURATION=5m", "--no-collector.host",
                           "--cri.endpoint URL=unix:///run/containerd/containerd.sock",
                           "--runtime.classes HANDLER=CLASS,...=runsc=gvisor"}) {
    EXPECT_NE(usage.find(text), std::string::npos) << text << " in\n" << usage;
  }
}

}  // namespace
}  // namespace gvisor_exporter

namespace gvisor_exporter {
namespace {

TEST(FlagsTest, SyscallSampling) {
  auto off = ParseFlags({});
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->syscalls_sample_period.count(), 0);
  auto f = ParseFlags({"--syscalls.sample=10s/1m"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->syscalls_sample_on, std::chrono::seconds(10));
  EXPECT_EQ(f->syscalls_sample_period, std::chrono::seconds(60));
  auto back = ParseFlags({"--syscalls.sample=10s/1m", "--syscalls.sample=off"});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->syscalls_sample_period.count(), 0);
  for (const char* bad :
       {"--syscalls.sample=10s", "--syscalls.sample=1m/10s", "--syscalls.sample=10s/10s",
        "--syscalls.sample=0s/10s", "--syscalls.sample=x/10s"}) {
    auto r = ParseFlags({bad});
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("--syscalls.sample"), std::string::npos) << bad;
    }
  }
}

}  // namespace
}  // namespace gvisor_exporter
