#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>

#include "exporter/doctor/checks.h"
#include "exporter/doctor/test_util.h"

namespace gvisor_exporter::doctor {
namespace {

using testing::FixturePath;
using testing::ReadFixture;
using testing::TempDir;
using testing::WriteScript;

TEST(CheckContainerdConfigTest, OurDeployConfig) {
  ContainerdConfig config;
  CheckResult r = CheckContainerdConfig(FixturePath("deploy/containerd/config.toml"), &config);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.detail;
  EXPECT_EQ(r.data["version"], 2);
  ASSERT_EQ(config.files.size(), 1u);
  std::set<std::string> all;
  std::vector<GvisorHandler> handlers = FindGvisorHandlers(config, &all);
  ASSERT_EQ(handlers.size(), 3u);
  EXPECT_EQ(handlers[0].name, "runsc");
  EXPECT_EQ(handlers[1].name, "runsc-kvm");
  EXPECT_EQ(handlers[2].name, "runsc-ptrace");
  for (const GvisorHandler& h : handlers) {
    EXPECT_EQ(h.runtime_type, "io.containerd.runsc.v1");
    EXPECT_EQ(h.root_parent, "/run/containerd/runsc");
    EXPECT_EQ(h.pod_annotations.size(), 2u);
  }
  EXPECT_EQ(handlers[1].config_path, "/etc/containerd/runsc-kvm.toml");
  EXPECT_EQ(CheckGvisorHandlers(handlers, all).status, CheckStatus::kOk);
}

TEST(CheckContainerdConfigTest, ContainerdEnvConfigFindsTheWrapperHandler) {
  ContainerdConfig config;
  CheckResult r = CheckContainerdConfig(
      FixturePath("exporter/doctor/testdata/containerd_env_config.toml"), &config);
  ASSERT_EQ(r.status, CheckStatus::kOk) << r.detail;
  std::set<std::string> all;
  std::vector<GvisorHandler> handlers = FindGvisorHandlers(config, &all);
  EXPECT_EQ(all, (std::set<std::string>{"runc", "runsc"}));
  ASSERT_EQ(handlers.size(), 1u);
  EXPECT_EQ(handlers[0].name, "runsc");
  EXPECT_EQ(handlers[0].runtime_type, "io.containerd.runc.v2");
  EXPECT_EQ(handlers[0].binary_name, "/tmp/gve-ctrd-example/bin/runsc-wrapper");
  EXPECT_EQ(handlers[0].root_parent, "/tmp/gve-ctrd-example/runsc-root");
  EXPECT_EQ(handlers[0].options["Root"], "/tmp/gve-ctrd-example/runsc-root");
  // No pod_annotations there: syscall opt-in by annotation cannot work.
  CheckResult h = CheckHandler(handlers[0]);
  EXPECT_EQ(h.status, CheckStatus::kWarn);
  EXPECT_NE(h.detail.find("pod_annotations lacks"), std::string::npos) << h.detail;
}

TEST(CheckContainerdConfigTest, GarbledConfigFailsWithLine) {
  TempDir dir("gve-doctor");
  dir.Write("config.toml", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\"\n");
  ContainerdConfig config;
  CheckResult r = CheckContainerdConfig(dir.Sub("config.toml"), &config);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("line 2, column 37: "), std::string::npos) << r.detail;
  EXPECT_EQ(r.data["error"],
            "line 2, column 37: Error while parsing table header: expected ']', saw '\\n'");
}

TEST(CheckContainerdConfigTest, UnreadableConfigFails) {
  TempDir dir("gve-doctor");
  ContainerdConfig config;
  EXPECT_EQ(CheckContainerdConfig(dir.Sub("missing.toml"), &config).status, CheckStatus::kFail);
  CheckResult d = CheckContainerdConfig(dir.path(), &config);
  EXPECT_EQ(d.status, CheckStatus::kFail);
  EXPECT_NE(d.detail.find("a directory"), std::string::npos) << d.detail;
}

TEST(CheckContainerdConfigTest, ImportsAreFollowedAndOverride) {
  TempDir dir("gve-doctor");
  dir.Write("config.toml",
            "version = 2\nimports = [\"conf.d/*.toml\", \"" + dir.Sub("config.toml") +
                "\"]\n"  // a cycle back to itself: read once
                "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
                "  runtime_type = \"io.containerd.runc.v2\"\n");
  dir.Write("conf.d/10-gvisor.toml",
            "version = 2\n"
            "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.gvisor]\n"
            "  runtime_type = \"io.containerd.runsc.v1\"\n"
            "  pod_annotations = [\"*\"]\n");
  dir.Write("conf.d/20-override.toml",
            "version = 2\n"
            "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.gvisor]\n"
            "  runtime_type = \"io.containerd.runsc.v1\"\n"
            "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.gvisor.options]\n"
            "    ConfigPath = \"/x/runsc.toml\"\n");
  ContainerdConfig config;
  CheckResult r = CheckContainerdConfig(dir.Sub("config.toml"), &config);
  ASSERT_EQ(r.status, CheckStatus::kOk) << r.detail;
  EXPECT_EQ(config.files.size(), 3u);
  EXPECT_NE(r.detail.find("2 imported file(s)"), std::string::npos) << r.detail;
  std::set<std::string> all;
  std::vector<GvisorHandler> handlers = FindGvisorHandlers(config, &all);
  ASSERT_EQ(handlers.size(), 1u);
  EXPECT_EQ(handlers[0].config_path, "/x/runsc.toml");  // the later file wins
  EXPECT_EQ(handlers[0].source_file, dir.Sub("conf.d/20-override.toml"));

  dir.Write("conf.d/30-bad.toml", "x = [\n");
  ContainerdConfig again;
  CheckResult bad = CheckContainerdConfig(dir.Sub("config.toml"), &again);
  EXPECT_EQ(bad.status, CheckStatus::kFail);
  EXPECT_NE(bad.detail.find("30-bad.toml (imported by"), std::string::npos) << bad.detail;

  TempDir other("gve-doctor");
  other.Write("config.toml", "imports = [\"/nonexistent/gve.toml\"]\n");
  ContainerdConfig missing;
  EXPECT_EQ(CheckContainerdConfig(other.Sub("config.toml"), &missing).status, CheckStatus::kFail);
}

TEST(FindGvisorHandlersTest, VersionOneAndThreeAndRunscBinaries) {
  const std::pair<const char*, const char*> cases[] = {
      {"[plugins.cri.containerd.runtimes.gvisor]\n"
       "  runtime_type = \"io.containerd.runtime.v1.linux\"\n"
       "  runtime_engine = \"/usr/local/bin/runsc\"\n",
       "gvisor"},
      {"version = 3\n[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.runsc]\n"
       "  runtime_type = \"io.containerd.runsc.v1\"\n",
       "runsc"},
      {"version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.sandboxed]\n"
       "  runtime_type = \"io.containerd.runc.v2\"\n"
       "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.sandboxed.options]\n"
       "    BinaryName = \"/usr/bin/runsc\"\n",
       "sandboxed"},
  };
  for (const auto& [text, name] : cases) {
    ContainerdConfig config;
    StatusOr<TomlValue> doc = ParseToml(text);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    config.files.push_back({"x", std::move(doc).value()});
    std::set<std::string> all;
    std::vector<GvisorHandler> handlers = FindGvisorHandlers(config, &all);
    ASSERT_EQ(handlers.size(), 1u) << text;
    EXPECT_EQ(handlers[0].name, name);
  }
}

TEST(CheckGvisorHandlersTest, NoneFails) {
  ContainerdConfig config;
  config.files.push_back(
      {"x", *ParseToml("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc]\n"
                       "runtime_type = \"io.containerd.runc.v2\"\n")});
  std::set<std::string> all;
  std::vector<GvisorHandler> handlers = FindGvisorHandlers(config, &all);
  CheckResult r = CheckGvisorHandlers(handlers, all);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("[\"runc\"]"), std::string::npos) << r.detail;
  EXPECT_NE(r.hint.find("io.containerd.runsc.v1"), std::string::npos);
}

TEST(CheckHandlerTest, AnnotationsAndBinary) {
  TempDir dir("gve-doctor");
  GvisorHandler h;
  h.name = "runsc";
  h.runtime_type = "io.containerd.runc.v2";
  h.binary_name = WriteScript(dir, "runsc-wrapper", "true");
  h.pod_annotations = {"dev.gvisor.*", "gvisor-exporter.io/*"};
  CheckResult ok = CheckHandler(h);
  EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.detail;
  EXPECT_EQ(ok.data["passes_exporter_annotations"], true);

  h.pod_annotations = {"dev.gvisor.*"};
  h.binary_name = dir.Sub("missing-runsc");
  CheckResult warn = CheckHandler(h);
  EXPECT_EQ(warn.status, CheckStatus::kWarn);
  EXPECT_NE(warn.detail.find("BinaryName"), std::string::npos) << warn.detail;
  EXPECT_NE(warn.hint.find("gvisor-exporter.io/*"), std::string::npos) << warn.hint;
}

TEST(GlobMatchTest, ContainerdPatterns) {
  EXPECT_TRUE(GlobMatch("gvisor-exporter.io/*", "gvisor-exporter.io/syscalls"));
  EXPECT_TRUE(GlobMatch("*", "gvisor-exporter.io/syscalls"));
  EXPECT_TRUE(GlobMatch("gvisor-exporter.io/syscall?", "gvisor-exporter.io/syscalls"));
  EXPECT_TRUE(GlobMatch("*syscalls", "gvisor-exporter.io/syscalls"));
  EXPECT_FALSE(GlobMatch("dev.gvisor.*", "gvisor-exporter.io/syscalls"));
  EXPECT_FALSE(GlobMatch("gvisor-exporter.io/", "gvisor-exporter.io/syscalls"));
  EXPECT_FALSE(GlobMatch("", "x"));
  EXPECT_TRUE(GlobMatch("a*b*c", "aXbYc"));
}

// ---- runsc.toml

GvisorHandler MakeHandler(const std::string& name, const std::string& type = "",
                          const std::string& binary = "") {
  GvisorHandler h;
  h.name = name;
  h.runtime_type = type;
  h.binary_name = binary;
  return h;
}

struct RunscTomlFixture {
  TempDir dir{"gve-doctor"};
  GvisorHandler h;
  RunscInfo runsc{"/usr/bin/runsc", "0.0~20221219.0", 20221219};

  CheckResult Check(const std::string& toml) {
    dir.Write("runsc.toml", toml);
    h.name = "runsc";
    h.runtime_type = "io.containerd.runsc.v1";
    h.config_path = dir.Sub("runsc.toml");
    return CheckRunscToml(&h, runsc);
  }
};

TEST(CheckRunscTomlTest, DeployPtraceFile) {
  RunscTomlFixture f;
  CheckResult r = f.Check(ReadFixture("deploy/containerd/runsc-ptrace.toml"));
  // binary_name /usr/local/bin/runsc may not exist here: that is a WARN at most.
  EXPECT_NE(r.status, CheckStatus::kFail) << r.detail;
  EXPECT_EQ(f.h.platform, "ptrace");
  EXPECT_EQ(r.data["network"], "sandbox");
  EXPECT_EQ(r.data["file_access"], "exclusive");
  EXPECT_EQ(r.data["debug"], false);
  EXPECT_EQ(f.h.root_parent, "/run/containerd/runsc");
}

TEST(CheckRunscTomlTest, DebugAndStraceWarn) {
  RunscTomlFixture f;
  CheckResult r = f.Check("binary_name = \"" + f.runsc.path + "\"\nroot = \"/x\"\n" +
                          "[runsc_config]\n  platform = \"ptrace\"\n  debug = \"true\"\n"
                          "  strace = \"true\"\n");
  EXPECT_EQ(r.status, CheckStatus::kWarn) << r.detail;
  EXPECT_NE(r.detail.find("debug is on"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("strace is on"), std::string::npos) << r.detail;
  EXPECT_EQ(r.data["debug"], true);
  EXPECT_EQ(f.h.root_parent, "/x");
}

TEST(CheckRunscTomlTest, UnquotedBoolFails) {
  // The shim decodes [runsc_config] into map[string]string.
  RunscTomlFixture f;
  CheckResult r = f.Check("[runsc_config]\n  platform = \"ptrace\"\n  debug = true\n");
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("runsc_config.debug is not a string"), std::string::npos) << r.detail;
  EXPECT_NE(r.hint.find("debug = \"true\""), std::string::npos) << r.hint;
}

TEST(CheckRunscTomlTest, PlatformChecks) {
  RunscTomlFixture f;
  CheckResult systrap = f.Check("[runsc_config]\n  platform = \"systrap\"\n");
  EXPECT_EQ(systrap.status, CheckStatus::kFail);  // 20221219 has no systrap
  EXPECT_NE(systrap.detail.find("needs runsc >= release-20230417"), std::string::npos);
  f.runsc.release = 20240101;
  EXPECT_EQ(f.Check("[runsc_config]\n  platform = \"systrap\"\n").status, CheckStatus::kOk);
  EXPECT_EQ(f.Check("[runsc_config]\n  platform = \"hyperv\"\n").status, CheckStatus::kFail);
  CheckResult kvm = f.Check("[runsc_config]\n  platform = \"kvm\"\n");
  EXPECT_EQ(f.h.platform, "kvm");
  EXPECT_EQ(f.Check("").status, CheckStatus::kOk);
  EXPECT_EQ(f.h.platform, "systrap");  // the release default
  EXPECT_EQ(f.Check("[runsc_config]\ndebug = \"maybe\"\n").status, CheckStatus::kFail);
}

TEST(CheckRunscTomlTest, MissingOrGarbledFails) {
  RunscTomlFixture f;
  CheckResult garbled = f.Check("[runsc_config\n");
  EXPECT_EQ(garbled.status, CheckStatus::kFail);
  EXPECT_NE(garbled.detail.find("line 1"), std::string::npos) << garbled.detail;
  f.h.config_path = f.dir.Sub("nope.toml");
  CheckResult missing = CheckRunscToml(&f.h, f.runsc);
  EXPECT_EQ(missing.status, CheckStatus::kFail);
}

TEST(CheckRunscTomlTest, NoConfigPathAndWrapperRoute) {
  RunscInfo runsc{"/usr/bin/runsc", "0.0~20221219.0", 20221219};
  GvisorHandler shim = MakeHandler("runsc", "io.containerd.runsc.v1");
  CheckResult r = CheckRunscToml(&shim, runsc);
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_EQ(shim.platform, "ptrace");
  GvisorHandler wrapper = MakeHandler("runsc", "io.containerd.runc.v2", "/x/runsc-wrapper");
  CheckResult w = CheckRunscToml(&wrapper, runsc);
  EXPECT_EQ(w.status, CheckStatus::kOk);
  EXPECT_EQ(wrapper.platform, "");
  EXPECT_NE(w.detail.find("not visible"), std::string::npos) << w.detail;
  GvisorHandler plain = MakeHandler("r", "io.containerd.runc.v2", "/usr/bin/runsc");
  CheckRunscToml(&plain, runsc);
  EXPECT_EQ(plain.platform, "ptrace");
}

// ---- pod-init-config

TEST(CheckPodInitConfigTest, DeployFileAndListeningSocket) {
  TempDir dir("gve-doctor");
  std::string json = ReadFixture("deploy/containerd/pod-init.json");
  const std::string sock = dir.Sub("s.sock");
  const std::string from = "/run/gvisor-exporter/syscalls.sock";
  ASSERT_NE(json.find(from), std::string::npos);
  json.replace(json.find(from), from.size(), sock);
  dir.Write("pod-init.json", json);
  GvisorHandler h = MakeHandler("runsc");
  h.pod_init_config = dir.Sub("pod-init.json");
  CheckResult absent = CheckPodInitConfig(h);
  EXPECT_EQ(absent.status, CheckStatus::kWarn);  // nobody listens yet
  EXPECT_GT(absent.data["points"].get<int>(), 300);
  EXPECT_EQ(absent.data["endpoint"], sock);

  // Now something listens there (a bound unix socket is all stat sees).
  const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  CheckResult ok = CheckPodInitConfig(h);
  ::close(fd);
  EXPECT_EQ(ok.status, CheckStatus::kOk) << ok.detail;
}

TEST(CheckPodInitConfigTest, InvalidFails) {
  TempDir dir("gve-doctor");
  GvisorHandler h = MakeHandler("runsc");
  for (const char* content : {"{not json", "{\"other\": 1}", "[]"}) {
    dir.Write("p.json", content);
    h.pod_init_config = dir.Sub("p.json");
    EXPECT_EQ(CheckPodInitConfig(h).status, CheckStatus::kFail) << content;
  }
  h.pod_init_config = dir.Sub("missing.json");
  EXPECT_EQ(CheckPodInitConfig(h).status, CheckStatus::kFail);
}

}  // namespace
}  // namespace gvisor_exporter::doctor
