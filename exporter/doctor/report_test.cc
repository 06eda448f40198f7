#include "exporter/doctor/report.h"

#include <gtest/gtest.h>

namespace gvisor_exporter::doctor {
namespace {

std::vector<CheckResult> Sample() {
  std::vector<CheckResult> v;
  v.emplace_back("runsc binary", CheckStatus::kOk, "/usr/bin/runsc, version 0.0~20221219.0");
  v.back().data["version"] = "0.0~20221219.0";
  v.emplace_back("handler runsc", CheckStatus::kWarn, "pod_annotations lacks x", "add it");
  v.emplace_back("runsc roots", CheckStatus::kFail, "root /x: \x1b[31mbad\x07", "fix \"it\"");
  return v;
}

TEST(ReportTest, JsonShape) {
  nlohmann::json j = RenderJson(Sample());
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 3u);
  ASSERT_EQ(j["checks"].size(), 3u);
  for (const nlohmann::json& c : j["checks"]) {
    EXPECT_EQ(c.size(), 5u);
    for (const char* k : {"name", "status", "detail", "hint"}) EXPECT_TRUE(c[k].is_string()) << k;
    EXPECT_TRUE(c["data"].is_object());
  }
  EXPECT_EQ(j["checks"][0]["name"], "runsc binary");
  EXPECT_EQ(j["checks"][0]["status"], "OK");
  EXPECT_EQ(j["checks"][0]["data"]["version"], "0.0~20221219.0");
  EXPECT_EQ(j["checks"][1]["status"], "WARN");
  EXPECT_EQ(j["checks"][2]["status"], "FAIL");
  EXPECT_EQ(j["checks"][2]["hint"], "fix \"it\"");
  EXPECT_EQ(j["summary"], nlohmann::json({{"ok", 1}, {"warn", 1}, {"fail", 1}}));
  EXPECT_EQ(j["exit_code"], 1);
}

TEST(ReportTest, JsonTextSurvivesInvalidUtf8) {
  std::vector<CheckResult> v;
  v.emplace_back("x", CheckStatus::kOk, "bad \xff byte");
  const std::string text = RenderJsonText(v);
  nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["checks"][0]["detail"], "bad \xef\xbf\xbd byte");
  EXPECT_EQ(text.back(), '\n');
}

TEST(ReportTest, TextLinesHintsAndSummary) {
  const std::string text = RenderText(Sample());
  EXPECT_EQ(text,
            "[ OK ] runsc binary   /usr/bin/runsc, version 0.0~20221219.0\n"
            "[WARN] handler runsc  pod_annotations lacks x\n"
            "                      fix: add it\n"
            "[FAIL] runsc roots    root /x: ?[31mbad?\n"
            "                      fix: fix \"it\"\n"
            "summary: 1 OK, 1 WARN, 1 FAIL\n");
}

TEST(ReportTest, ExitCode) {
  std::vector<CheckResult> v = Sample();
  EXPECT_EQ(ExitCode(v), 1);
  v.pop_back();
  EXPECT_EQ(ExitCode(v), 0);  // WARN does not fail
  EXPECT_EQ(ExitCode({}), 0);
}

}  // namespace
}  // namespace gvisor_exporter::doctor
