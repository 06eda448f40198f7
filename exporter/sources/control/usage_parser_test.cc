#include "exporter/sources/control/usage_parser.h"

#include <gtest/gtest.h>

#include <string>

#include "exporter/common/json_util.h"
#include "exporter/sources/control/urpc_reply.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using testing::ReadFixture;

nlohmann::json ResultOf(const std::string& fixture) {
  auto r = ParseUrpcReply(ReadFixture("exporter/sources/control/testdata/" + fixture));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nlohmann::json();
}

TEST(ParseEventResultTest, RealMultiContainerReply) {
  auto e = ParseEventResult(ResultOf("urpc-event-multi.json"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->id, "");
  EXPECT_EQ(e->memory_usage_bytes, 4042752u);
  EXPECT_EQ(e->pids, 2u);
  EXPECT_EQ(e->cpu_total, 0u);  // "cpu":{"usage":{}} over urpc
  const std::map<std::string, uint64_t> want = {{"cmapp", 350000000}, {"cmsb", 0}};
  EXPECT_EQ(e->container_cpu_ns, want);
}

TEST(ParseEventResultTest, RealSingleContainerReply) {
  auto e = ParseEventResult(ResultOf("urpc-event-single.json"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->pids, 1u);
  EXPECT_EQ(e->memory_usage_bytes, 2027520u);
  EXPECT_EQ(e->container_cpu_ns.size(), 1u);
}

TEST(ParseEventResultTest, InvalidContainerIdsAreSkipped) {
  auto j = ResultOf("urpc-event-multi.json");
  j["containerUsage"]["../etc"] = 5;
  j["containerUsage"][""] = 5;
  j["containerUsage"]["a b"] = 5;
  auto e = ParseEventResult(j);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->container_cpu_ns.size(), 2u);
}

TEST(ParseEventResultTest, NullOrAbsentContainerUsage) {
  auto j = ResultOf("urpc-event-multi.json");
  j["containerUsage"] = nullptr;
  EXPECT_TRUE(ParseEventResult(j)->container_cpu_ns.empty());
  j.erase("containerUsage");
  EXPECT_TRUE(ParseEventResult(j).ok());
}

TEST(ParseEventResultTest, BadNumbersAreRejected) {
  const nlohmann::json bad_values[] = {-1, 1.5, "12", true, nlohmann::json::array(), 1e30};
  for (const auto& v : bad_values) {
    auto j = ResultOf("urpc-event-multi.json");
    j["event"]["data"]["pids"]["current"] = v;
    EXPECT_EQ(ParseEventResult(j).status().reason(), Reason::kParse) << v;
    j = ResultOf("urpc-event-multi.json");
    j["containerUsage"]["cmapp"] = v;
    EXPECT_EQ(ParseEventResult(j).status().reason(), Reason::kParse) << v;
    j = ResultOf("urpc-event-multi.json");
    j["event"]["data"]["memory"]["usage"]["usage"] = v;
    EXPECT_EQ(ParseEventResult(j).status().reason(), Reason::kParse) << v;
  }
}

TEST(ParseEventResultTest, OmittedZeroVersusUnknown) {
  auto j = ResultOf("urpc-event-multi.json");
  j["event"]["data"]["pids"] = nlohmann::json::object();  // omitempty zero
  j["event"]["data"].erase("memory");                     // not reported
  auto e = ParseEventResult(j);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->pids, 0u);
  EXPECT_FALSE(e->memory_usage_bytes.has_value());
}

TEST(ParseEventResultTest, WrongShapes) {
  for (const char* text :
       {R"([])", R"({})", R"({"event":5})", R"({"event":{"data":[]}})",
        R"({"event":{"type":"oom","data":{}}})", R"({"event":{"data":{"pids":7}}})",
        R"({"event":{"data":{}},"containerUsage":[1]})"}) {
    auto r = ParseEventResult(nlohmann::json::parse(text));
    EXPECT_EQ(r.status().reason(), Reason::kParse) << text;
  }
}

TEST(ParseMemoryUsageTest, RealFullAndQuickReplies) {
  auto full = ParseMemoryUsage(ResultOf("urpc-usage-full.json"), true);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_TRUE(full->full);
  EXPECT_EQ(full->system, 12288u);
  EXPECT_EQ(full->anonymous, 860160u);
  EXPECT_EQ(full->mapped, 3170304u);
  EXPECT_EQ(full->total, 4042752u);
  auto quick = ParseMemoryUsage(ResultOf("urpc-usage.json"), false);
  ASSERT_TRUE(quick.ok());
  EXPECT_FALSE(quick->full);
  EXPECT_EQ(quick->unknown, 872448u);
  EXPECT_EQ(quick->total, 4042752u);
}

TEST(ParseMemoryUsageTest, TotalIsRequiredAndNumbersChecked) {
  EXPECT_EQ(ParseMemoryUsage(nlohmann::json::parse(R"({"Mapped":1})"), false).status().reason(),
            Reason::kParse);
  EXPECT_EQ(ParseMemoryUsage(nlohmann::json::parse(R"({"Total":-4})"), false).status().reason(),
            Reason::kParse);
  EXPECT_EQ(ParseMemoryUsage(nlohmann::json::parse(R"({"Total":1,"Tmpfs":0.5})"), false)
                .status()
                .reason(),
            Reason::kParse);
  EXPECT_EQ(ParseMemoryUsage(nlohmann::json::parse("null"), false).status().reason(),
            Reason::kParse);
  auto max = ParseMemoryUsage(nlohmann::json::parse(R"({"Total":18446744073709551615})"), false);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->total, UINT64_MAX);
}

TEST(ParseUsageOutputTest, RealCliOutput) {
  auto quick = ParseUsageOutput(ReadFixture("exporter/sources/cli/testdata/usage.txt"), false);
  ASSERT_TRUE(quick.ok()) << quick.status().ToString();
  EXPECT_EQ(quick->total, 4042752u);
  EXPECT_EQ(quick->unknown, 872448u);
  auto full = ParseUsageOutput(ReadFixture("exporter/sources/cli/testdata/usage-full.txt"), true);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->anonymous, 860160u);
  EXPECT_TRUE(full->full);
}

TEST(ParseUsageOutputTest, GarbageAndDepth) {
  EXPECT_EQ(ParseUsageOutput("loading container: file does not exist", false).status().reason(),
            Reason::kParse);
  EXPECT_EQ(ParseUsageOutput("", false).status().reason(), Reason::kParse);
  EXPECT_EQ(ParseUsageOutput(std::string("{\"Total\":1}\0x", 13), false).status().reason(),
            Reason::kParse);
  EXPECT_EQ(ParseUsageOutput(std::string(10000, '['), false).status().reason(), Reason::kTooLarge);
}

TEST(ParseEventsStatsOutputTest, RealLines) {
  auto app = ParseEventsStatsOutput(
      ReadFixture("exporter/sources/cli/testdata/events-stats-app-of-multi.txt"));
  ASSERT_TRUE(app.ok()) << app.status().ToString();
  ASSERT_EQ(app->size(), 1u);
  EXPECT_EQ((*app)[0].id, "cmapp");
  EXPECT_EQ((*app)[0].cpu_total, 497118940u);
  EXPECT_EQ((*app)[0].pids, 2u);
  EXPECT_EQ((*app)[0].memory_usage_bytes, 4042752u);
  EXPECT_TRUE((*app)[0].container_cpu_ns.empty());

  auto pause = ParseEventsStatsOutput(
      ReadFixture("exporter/sources/cli/testdata/events-stats-pause-of-multi.txt"));
  ASSERT_TRUE(pause.ok());
  EXPECT_EQ((*pause)[0].cpu_total, 0u);  // the pause container's share
}

TEST(ParseEventsStatsOutputTest, SharedMultiLineSample) {
  auto events = ParseEventsStatsOutput(
      ReadFixture("exporter/sources/cli/testdata/events-stats-multi-sample.txt"));
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].id, "gvr1");
  EXPECT_EQ((*events)[1].id, "sub1");
  EXPECT_EQ((*events)[1].cpu_total, 438799614u);
}

TEST(ParseEventsStatsOutputTest, Failures) {
  EXPECT_EQ(ParseEventsStatsOutput("").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseEventsStatsOutput("\n \n").status().reason(), Reason::kParse);
  EXPECT_EQ(ParseEventsStatsOutput("{\"type\":\"stats\"}\nnot json").status().reason(),
            Reason::kParse);
  EXPECT_EQ(ParseEventsStatsOutput(R"({"type":"stats","id":"../x","data":{}})").status().reason(),
            Reason::kInvalid);
  std::string many;
  for (int i = 0; i < 1100; ++i)
    many += R"({"data":{}})"
            "\n";
  EXPECT_EQ(ParseEventsStatsOutput(many).status().reason(), Reason::kTooLarge);
}

}  // namespace
}  // namespace gvisor_exporter

namespace gvisor_exporter {
namespace {

TEST(ParseStatsEventTest, NetworkInterfacesOfNewerRunsc) {
  // The shape runsc 20240729 prints (`runsc events -stats`), with traffic.
  auto event = nlohmann::json::parse(R"({"type":"stats","id":"s","data":{"pids":{"current":1},
      "network_interfaces":[{"Name":"lo"},{"Name":"eth0","RxBytes":1500,"RxPackets":3,
      "TxBytes":98,"TxPackets":1,"RxDropped":2},{"Name":"bad/name","RxBytes":1},
      {"Name":"eth\n1","RxBytes":1},{"Name":"waytoolonginterfacename"}]}})");
  auto stats = ParseStatsEvent(event);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_TRUE(stats->network.has_value());
  ASSERT_EQ(stats->network->size(), 2u);  // implausible names are skipped
  EXPECT_EQ((*stats->network)[0].name, "lo");
  EXPECT_EQ((*stats->network)[0].rx_bytes, 0u);  // omitempty zero
  const NetworkInterface& eth = (*stats->network)[1];
  EXPECT_EQ(eth.name, "eth0");
  EXPECT_EQ(eth.rx_bytes, 1500u);
  EXPECT_EQ(eth.rx_packets, 3u);
  EXPECT_EQ(eth.rx_dropped, 2u);
  EXPECT_EQ(eth.tx_bytes, 98u);
  EXPECT_EQ(eth.tx_packets, 1u);
}

TEST(ParseStatsEventTest, NetworkInterfacesAbsentBoundedAndChecked) {
  auto old = ParseStatsEvent(nlohmann::json::parse(R"({"data":{"pids":{"current":1}}})"));
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->network.has_value());  // 20221219: unknown, not empty
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 100; ++i) many.push_back({{"Name", "veth" + std::to_string(i)}});
  auto bounded = ParseStatsEvent({{"data", {{"network_interfaces", many}}}});
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(bounded->network->size(), kMaxNetworkInterfaces);
  EXPECT_FALSE(
      ParseStatsEvent(nlohmann::json::parse(R"({"data":{"network_interfaces":{}}})")).ok());
  EXPECT_FALSE(
      ParseStatsEvent(
          nlohmann::json::parse(R"({"data":{"network_interfaces":[{"Name":"lo","RxBytes":-1}]}})"))
          .ok());
  EXPECT_FALSE(
      ParseStatsEvent(nlohmann::json::parse(R"({"data":{"network_interfaces":[1]}})")).ok());
}

}  // namespace
}  // namespace gvisor_exporter
