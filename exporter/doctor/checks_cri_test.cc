#include <gtest/gtest.h>

#include "exporter/doctor/checks.h"
#include "exporter/doctor/test_util.h"
#include "exporter/sources/cri/cri_client.h"
#include "exporter/sources/cri/fake_cri_server.h"

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
  EXPECT_NE(not_socket.hint.find(kDefaultCriEndpoint), std::string::npos);
}

// The exporter's client against an in-process runtime: pods validated as the
// exporter validates them.
TEST(CheckCriEndpointTest, ListsValidPodsAndWarnsOnInvalidOnes) {
  TempDir dir("gve-doctor");
  cri_testing::FakeRuntime fake;
  auto add = [&](const std::string& id, const std::string& name, const std::string& handler) {
    runtime::v1::PodSandbox* p = fake.list.add_items();
    p->set_id(id);
    p->mutable_metadata()->set_name(name);
    p->mutable_metadata()->set_namespace_("ns");
    p->set_runtime_handler(handler);
    p->set_state(runtime::v1::SANDBOX_READY);
  };
  add("aaaa", "gv", "runsc");
  cri_testing::FakeCriServer server(dir.Sub("c.sock"), &fake);
  ASSERT_TRUE(server.ok());
  CriInfo info;
  CheckResult r = CheckCriEndpoint("unix://" + dir.Sub("c.sock"), 5s, &info);
  EXPECT_EQ(r.status, CheckStatus::kOk) << r.detail;
  EXPECT_TRUE(info.up);
  EXPECT_EQ(info.runtime_name, "containerd");
  ASSERT_EQ(info.pods.size(), 1u);
  EXPECT_EQ(info.pods[0].runtime_handler, "runsc");
  EXPECT_TRUE(info.pods[0].ready);

  add("bbbb", "bad name", "runc");
  CriInfo again;
  r = CheckCriEndpoint(dir.Sub("c.sock"), 5s, &again);
  EXPECT_EQ(r.status, CheckStatus::kWarn);
  EXPECT_EQ(again.pods.size(), 1u);
  EXPECT_EQ(r.data["invalid_pods"].size(), 1u);
  EXPECT_NE(r.detail.find("1 pod(s) the exporter skips"), std::string::npos) << r.detail;
}

CriPod Pod(std::string id, std::string name, std::string handler) {
  CriPod p;
  p.id = std::move(id);
  p.name = std::move(name);
  p.pod_namespace = "ns";
  p.runtime_handler = std::move(handler);
  p.ready = true;
  return p;
}

CriInfo TwoPods() {
  CriInfo cri;
  cri.up = true;
  cri.pods = {Pod("aaaa", "gv", "runsc"), Pod("bbbb", "rc", "runc")};
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
