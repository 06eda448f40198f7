#include <gtest/gtest.h>

#include "exporter/doctor/checks.h"
#include "exporter/doctor/file_io.h"
#include "exporter/doctor/test_util.h"

namespace gvisor_exporter::doctor {
namespace {

using testing::TempDir;
using testing::WriteScript;
using namespace std::chrono_literals;

TEST(CheckRunscBinaryTest, MissingBinaryFails) {
  RunscInfo info;
  CheckResult r = CheckRunscBinary("/nonexistent/runsc", 1s, &info);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("/nonexistent/runsc"), std::string::npos) << r.detail;
  EXPECT_FALSE(r.hint.empty());
  EXPECT_EQ(info.path, "");
}

TEST(CheckRunscBinaryTest, NotInPathFails) {
  RunscInfo info;
  CheckResult r = CheckRunscBinary("no-such-runsc-gve", 1s, &info);
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("not found in PATH"), std::string::npos) << r.detail;
}

TEST(CheckRunscBinaryTest, FakeRunscVersion) {
  TempDir dir("gve-doctor");
  // What Debian's runsc prints (captured).
  const std::string runsc =
      WriteScript(dir, "runsc", "echo 'runsc version 0.0~20221219.0'; echo 'spec: 1.0.2-dev'");
  RunscInfo info;
  CheckResult r = CheckRunscBinary(runsc, 2s, &info);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.detail;
  EXPECT_EQ(info.version, "0.0~20221219.0");
  EXPECT_EQ(info.release, 20221219u);
  EXPECT_EQ(r.data["version"], "0.0~20221219.0");
  EXPECT_EQ(r.data["default_platform"], "ptrace");
  EXPECT_EQ(r.data["path"], runsc);
}

TEST(CheckRunscBinaryTest, FailingOrHangingVersionFails) {
  TempDir dir("gve-doctor");
  RunscInfo info;
  EXPECT_EQ(CheckRunscBinary(WriteScript(dir, "bad", "echo oops >&2; exit 3"), 2s, &info).status,
            CheckStatus::kFail);
  CheckResult hang = CheckRunscBinary(WriteScript(dir, "hang", "exec sleep 30"), 200ms, &info);
  EXPECT_EQ(hang.status, CheckStatus::kFail);
  EXPECT_NE(hang.detail.find("--version failed"), std::string::npos) << hang.detail;
  dir.Write("notexec", "#!/bin/sh\n");
  EXPECT_EQ(CheckRunscBinary(dir.Sub("notexec"), 2s, &info).status, CheckStatus::kFail);
}

TEST(DefaultPlatformTest, ByRelease) {
  EXPECT_EQ(DefaultPlatform(20221219), "ptrace");
  EXPECT_EQ(DefaultPlatform(20230620), "ptrace");
  EXPECT_EQ(DefaultPlatform(20230621), "systrap");
  EXPECT_EQ(DefaultPlatform(0), "");
}

TEST(CheckKvmTest, SkippedWithoutUsers) {
  TempDir dir("gve-doctor");
  CheckResult r = CheckKvm({}, dir.path());
  EXPECT_EQ(r.status, CheckStatus::kOk);
  EXPECT_NE(r.detail.find("skipped"), std::string::npos);
  EXPECT_EQ(r.data["present"], false);
}

TEST(CheckKvmTest, ConfiguredButMissingFails) {
  TempDir dir("gve-doctor");
  dir.Write("kvm", "not a device");  // a regular file is not /dev/kvm
  CheckResult r = CheckKvm({"handler runsc-kvm"}, dir.path());
  EXPECT_EQ(r.status, CheckStatus::kFail);
  EXPECT_NE(r.detail.find("handler runsc-kvm"), std::string::npos) << r.detail;
  EXPECT_FALSE(r.hint.empty());
}

TEST(CheckKvmTest, RealDevKvmMatchesProbe) {
  CheckResult r = CheckKvm({"handler k"}, "/dev");
  EXPECT_EQ(r.status == CheckStatus::kOk, r.data["usable"].get<bool>());
}

TEST(FileIoTest, ReadRegularFileRejectsSpecialFiles) {
  TempDir dir("gve-doctor");
  dir.Write("f", "hello");
  EXPECT_EQ(*ReadRegularFile(dir.Sub("f")), "hello");
  ASSERT_EQ(::mkfifo(dir.Sub("fifo").c_str(), 0600), 0);
  StatusOr<std::string> fifo = ReadRegularFile(dir.Sub("fifo"));
  EXPECT_EQ(fifo.status().reason(), Reason::kInvalid);
  EXPECT_NE(fifo.status().message().find("a FIFO"), std::string::npos);
  EXPECT_EQ(ReadRegularFile(dir.path()).status().reason(), Reason::kInvalid);
  EXPECT_EQ(ReadRegularFile("/dev/zero").status().reason(), Reason::kInvalid);
  EXPECT_EQ(ReadRegularFile(dir.Sub("missing")).status().reason(), Reason::kNotFound);
  EXPECT_EQ(ReadRegularFile(dir.Sub("f"), 3).status().reason(), Reason::kTooLarge);
  // A symlink to a regular file is followed (hosts symlink /etc files).
  ASSERT_EQ(::symlink(dir.Sub("f").c_str(), dir.Sub("link").c_str()), 0);
  EXPECT_EQ(*ReadRegularFile(dir.Sub("link")), "hello");
}

TEST(FileIoTest, FindExecutable) {
  TempDir dir("gve-doctor");
  const std::string tool = WriteScript(dir, "bin/tool", "true");
  const std::string path = "/nonexistent::" + dir.Sub("bin");
  EXPECT_EQ(*FindExecutable("tool", path.c_str()), tool);
  EXPECT_EQ(FindExecutable("other", path.c_str()).status().reason(), Reason::kNotFound);
  EXPECT_EQ(*FindExecutable(tool), tool);
  EXPECT_FALSE(FindExecutable(dir.Sub("bin")).ok());  // a directory
}

}  // namespace
}  // namespace gvisor_exporter::doctor
