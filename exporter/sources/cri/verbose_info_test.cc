#include "exporter/sources/cri/verbose_info.h"

#include <gtest/gtest.h>

#include "exporter/sources/cri/test_util.h"
#include "proto/cri_runtime.pb.h"

namespace gvisor_exporter {
namespace {

using cri_testing::LoadReply;

TEST(VerboseInfoTest, ParsesRecordedGvisorAndRuncReplies) {
  auto gv =
      LoadReply<runtime::v1::PodSandboxStatusResponse>("pod_sandbox_status_verbose_gvisor.json");
  auto info = ParseVerboseInfo(gv.info().at("info"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->pid, 21967);
  EXPECT_EQ(info->runtime_type, "io.containerd.runc.v2");  // the wrapper route
  EXPECT_EQ(info->runtime_root, "/var/lib/cri-test/runsc");
  EXPECT_EQ(info->runtime_binary, "/var/lib/cri-test/bin/runsc-cri-wrapper");

  auto rc =
      LoadReply<runtime::v1::PodSandboxStatusResponse>("pod_sandbox_status_verbose_runc.json");
  info = ParseVerboseInfo(rc.info().at("info"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->pid, 8808);
  EXPECT_EQ(info->runtime_root, "/var/lib/cri-test/runc");
}

TEST(VerboseInfoTest, WrongTypesAndHugeFieldsAreAbsent) {
  auto info = ParseVerboseInfo(R"({"pid":"12","runtimeType":7,"runtimeOptions":{"root":")" +
                               std::string(5000, 'r') + R"("},"extra":[1,2,3]})");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->pid, 0);
  EXPECT_EQ(info->runtime_type, "");
  EXPECT_EQ(info->runtime_root, "");
  info = ParseVerboseInfo(R"({"pid":-5,"runtimeOptions":"x"})");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->pid, 0);
  info = ParseVerboseInfo(R"({"runtimeType":"io.containerd.runsc.v1"})");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->runtime_type, kRunscRuntimeType);
}

TEST(VerboseInfoTest, RejectsGarbageDeepAndHugeDocuments) {
  EXPECT_EQ(ParseVerboseInfo("").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseVerboseInfo("{\"pid\":").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseVerboseInfo("[1]").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseVerboseInfo("\xff\xfe").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseVerboseInfo(std::string(100000, '[')).status().reason(), Reason::kTooLarge);
  EXPECT_EQ(
      ParseVerboseInfo("\"" + std::string(kMaxVerboseInfoBytes, 'x') + "\"").status().reason(),
      Reason::kTooLarge);
}

}  // namespace
}  // namespace gvisor_exporter
