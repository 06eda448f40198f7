#include <gtest/gtest.h>

#include "exporter/doctor/checks.h"
#include "exporter/doctor/test_util.h"

namespace gvisor_exporter::doctor {
namespace {

using testing::TempDir;
using namespace std::chrono_literals;

TEST(CheckCriEndpointTest, DisabledAndMissing) {
  CriInfo info;
  EXPECT_EQ(CheckCriEndpoint("", 1s, &info).status, CheckStatus::kOk);
  TempDir dir("gve-doctor");
  CheckResult missing = CheckCriEndpoint("unix://" + dir.Sub("c.sock"), 1s, &info);
  EXPECT_EQ(missing.status, CheckStatus::kWarn);
  EXPECT_FALSE(info.up);
  dir.Write("file.sock", "");
  CheckResult not_socket = CheckCriEndpoint(dir.Sub("file.sock"), 1s, &info);
  EXPECT_EQ(not_socket.status, CheckStatus::kWarn);
  EXPECT_NE(not_socket.detail.find("is not a socket"), std::string::npos);
}

CriInfo TwoPods() {
  CriInfo cri;
  cri.up = true;
  cri.pods = {{"aaaa", "gv", "ns", "runsc", true}, {"bbbb", "rc", "ns", "runc", true}};
  return cri;
}

TEST(CheckCriHandlersTest, AllKnownAndSeen) {
  std::set<std::string> config{"runc", "runsc"};
  LiveSandbox sb;
  sb.info.id = "aaaa";
  CheckResult r = CheckCriHandlers(TwoPods(), &config, {"runsc"}, {sb});
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.detail;
  EXPECT_EQ(r.detail, "pods by handler: runc: 1, runsc: 1");
  EXPECT_EQ(r.data["handlers"]["runsc"], 1);
  EXPECT_EQ(r.data["pods"][0]["gvisor"], true);
}

TEST(CheckCriHandlersTest, UnknownHandlerWarns) {
  std::set<std::string> config{"runsc"};
  LiveSandbox sb;
  sb.info.id = "aaaa";
  CheckResult r = CheckCriHandlers(TwoPods(), &config, {"runsc"}, {sb});
  EXPECT_EQ(r.status, CheckStatus::kWarn);
  EXPECT_NE(r.detail.find("[\"runc\"]"), std::string::npos) << r.detail;
  // Without a config read there is nothing to compare with.
  EXPECT_EQ(CheckCriHandlers(TwoPods(), nullptr, {"runsc"}, {sb}).status, CheckStatus::kOk);
}

TEST(CheckCriHandlersTest, GvisorPodWithoutSandboxWarns) {
  std::set<std::string> config{"runc", "runsc"};
  CheckResult r = CheckCriHandlers(TwoPods(), &config, {"runsc"}, {});
  EXPECT_EQ(r.status, CheckStatus::kWarn);
  EXPECT_EQ(r.data["gvisor_pods_without_sandbox"], nlohmann::json({"aaaa"}));
  EXPECT_NE(r.hint.find("--runsc.root"), std::string::npos);
}

TEST(CheckCriHandlersTest, SkippedWhenDown) {
  EXPECT_EQ(CheckCriHandlers(CriInfo{}, nullptr, {}, {}).status, CheckStatus::kOk);
}

}  // namespace
}  // namespace gvisor_exporter::doctor
