#include "exporter/views/sandboxes_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "exporter/collectors/testing_snapshot.h"
#include "exporter/common/text.h"

namespace gvisor_exporter {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

// MakeTestSnapshot: Total 69136384; PSS 80000000 + 6000000 + 1000000 = 87000000;
// cgroup 79495168; snapshot at t=1000, poll 7.
constexpr double kNow = 1002.5;

Json ParseJson(const std::string& s) {
  Json j = Json::parse(s, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << s.substr(0, 2000);
  return j;
}

TEST(SandboxesJsonTest, EveryFieldOfASandbox) {
  const NodeSnapshot snap = MakeTestSnapshot();
  const Json j = ParseJson(RenderSandboxesJson(&snap, kNow));
  ASSERT_EQ(j["sandboxes"].size(), 1u);
  const Json& s = j["sandboxes"][0];
  EXPECT_EQ(s["pod"], "web-0");
  EXPECT_EQ(s["namespace"], "shop");
  EXPECT_EQ(s["sandbox_id"], "sb1");
  EXPECT_EQ(s["root"], "/run/containerd/runsc/k8s.io");
  EXPECT_TRUE(s["runtime_class"].is_null());
  EXPECT_EQ(s["platform"], "ptrace");
  EXPECT_EQ(s["network"], "none");
  EXPECT_EQ(s["memory_total_bytes"], 69136384u);
  EXPECT_EQ(s["host_memory_pss_bytes"], 87000000u);
  EXPECT_EQ(s["memory_overhead_bytes"], 87000000 - 69136384);
  EXPECT_EQ(s["cgroup_memory_usage_bytes"], 79495168u);
  EXPECT_EQ(s["stats_path"], "control_socket");
  EXPECT_EQ(s["syscall_collection"], "off");
  EXPECT_TRUE(s["syscall_events_dropped"].is_null());
  EXPECT_EQ(s["containers"], Json::array({"app"}));  // the pause container is the sandbox
  EXPECT_EQ(s["last_poll_timestamp_seconds"], 1000.0);
  EXPECT_EQ(s.size(), 16u) << "a field was added: assert it here too";
  const Json& meta = j["snapshot"];
  EXPECT_EQ(meta["timestamp_seconds"], 1000.0);
  EXPECT_EQ(meta["age_seconds"], 2.5);
  EXPECT_EQ(meta["poll_count"], 7u);
  EXPECT_EQ(meta["poll_duration_seconds"], 0.002);
  EXPECT_EQ(meta["sandbox_count"], 1u);
}

TEST(SandboxesJsonTest, RuntimeClassFromTheCriMapping) {
  NodeSnapshot snap = MakeTestSnapshot();
  snap.sandboxes[0].runtime_handler = "runsc";
  snap.sandboxes[0].runtime_class = "gvisor";
  const Json j = ParseJson(RenderSandboxesJson(&snap, kNow))["sandboxes"][0];
  EXPECT_EQ(j["runtime_class"], "gvisor");
  EXPECT_NE(RenderSandboxesHtml(&snap, kNow).find(">gvisor</td>"), std::string::npos);
}

TEST(SandboxesJsonTest, SyscallCollectionStateAndDrops) {
  NodeSnapshot snap = MakeTestSnapshot();
  SandboxSyscalls sc;
  sc.mode = "attach";
  sc.state = TraceSessionState::kForeign;
  sc.dropped_events = 42;
  snap.sandboxes[0].syscalls = sc;
  const Json j = ParseJson(RenderSandboxesJson(&snap, kNow))["sandboxes"][0];
  EXPECT_EQ(j["syscall_collection"], "attach foreign");
  EXPECT_EQ(j["syscall_events_dropped"], 42u);
  const std::string html = RenderSandboxesHtml(&snap, kNow);
  EXPECT_NE(html.find("<td>attach foreign, 42 dropped</td>"), std::string::npos);
}

TEST(SandboxesJsonTest, UnknownFiguresAreNullNotZero) {
  NodeSnapshot snap = MakeTestSnapshot();
  SandboxSnapshot& s = snap.sandboxes[0];
  s.usage = SandboxUsage{};  // no usage at all: path none
  s.processes.clear();       // host collection off
  s.cgroup.reset();
  const Json j = ParseJson(RenderSandboxesJson(&snap, kNow))["sandboxes"][0];
  EXPECT_TRUE(j["memory_total_bytes"].is_null());
  EXPECT_TRUE(j["host_memory_pss_bytes"].is_null());
  EXPECT_TRUE(j["memory_overhead_bytes"].is_null());
  EXPECT_TRUE(j["cgroup_memory_usage_bytes"].is_null());
  EXPECT_EQ(j["stats_path"], "none");

  // PSS known but Total not: still no overhead. Negative overhead is kept signed.
  snap.sandboxes[0].processes = MakeTestSnapshot().sandboxes[0].processes;
  EXPECT_TRUE(ParseJson(RenderSandboxesJson(&snap, kNow))["sandboxes"][0]["memory_overhead_bytes"]
                  .is_null());
  snap.sandboxes[0].usage.memory = SandboxMemory{};
  snap.sandboxes[0].usage.memory->total = 90000000;
  EXPECT_EQ(ParseJson(RenderSandboxesJson(&snap, kNow))["sandboxes"][0]["memory_overhead_bytes"],
            -3000000);
}

TEST(SandboxesJsonTest, SortedByNamespacePodIdAndUnnamedContainersShowTheirId) {
  NodeSnapshot snap = MakeTestSnapshot();
  SandboxSnapshot base = snap.sandboxes[0];
  snap.sandboxes.clear();
  for (const auto& [ns, pod, id] :
       std::vector<std::tuple<std::string, std::string, std::string>>{{"shop", "web-1", "z"},
                                                                      {"data", "db", "y"},
                                                                      {"shop", "web-0", "x2"},
                                                                      {"shop", "web-0", "x1"}}) {
    SandboxSnapshot s = base;
    s.info.pod_namespace = ns;
    s.info.pod_name = pod;
    s.info.id = id;
    snap.sandboxes.push_back(s);
  }
  snap.sandboxes[0].info.containers[1].name = "";
  const Json j = ParseJson(RenderSandboxesJson(&snap, kNow));
  std::vector<std::string> ids;
  for (const Json& s : j["sandboxes"]) ids.push_back(s["sandbox_id"]);
  EXPECT_THAT(ids, ElementsAre("y", "x1", "x2", "z"));
  EXPECT_EQ(j["sandboxes"][3]["containers"], Json::array({"app1"}));
}

TEST(SandboxesJsonTest, BeforeTheFirstPollAndWithoutSandboxes) {
  EXPECT_EQ(RenderSandboxesJson(nullptr, kNow), "{\"sandboxes\":[],\"snapshot\":null}\n");
  NodeSnapshot empty = MakeTestSnapshot();
  empty.sandboxes.clear();
  const Json j = ParseJson(RenderSandboxesJson(&empty, kNow));
  EXPECT_EQ(j["sandboxes"], Json::array());
  EXPECT_EQ(j["snapshot"]["sandbox_count"], 0u);
}

// A pod name is an annotation anyone who can create a pod controls.
const std::string kHostile = "<script>alert(1)</script>\"&'";
const std::string kInvalidUtf8 =
    "bad\xff\xfe\xc3(\xed\xa0\x80"
    "end";  // stray, truncated, surrogate

NodeSnapshot HostileSnapshot() {
  NodeSnapshot snap = MakeTestSnapshot();
  SandboxInfo& info = snap.sandboxes[0].info;
  info.pod_name = kHostile;
  info.pod_namespace = kInvalidUtf8;
  info.root = std::string(size_t{10} * 1024, 'r') + "<>";
  info.containers[1].name = "c\"<img src=x onerror=alert(1)>\n\x01";
  snap.sandboxes[0].platform.platform = "</td></tr></table><script>";
  return snap;
}

TEST(SandboxesJsonTest, HostileStringsRoundTripAndInvalidUtf8IsReplaced) {
  const NodeSnapshot snap = HostileSnapshot();
  const std::string out = RenderSandboxesJson(&snap, kNow);
  EXPECT_TRUE(IsValidUtf8(out));
  const Json s = ParseJson(out)["sandboxes"][0];
  EXPECT_EQ(s["pod"], kHostile);
  EXPECT_EQ(s["root"], snap.sandboxes[0].info.root);  // JSON keeps the full value
  EXPECT_EQ(s["containers"][0], snap.sandboxes[0].info.containers[1].name);
  const std::string ns = s["namespace"];
  EXPECT_THAT(ns, HasSubstr("bad\xEF\xBF\xBD"));
  EXPECT_THAT(ns, HasSubstr("end"));
}

TEST(SandboxesHtmlTest, RowShowsEveryColumnInHumanUnits) {
  const NodeSnapshot snap = MakeTestSnapshot();
  const std::string html = RenderSandboxesHtml(&snap, kNow);
  EXPECT_THAT(html,
              HasSubstr("Snapshot of 1970-01-01 00:16:40 UTC (2.5 s ago), poll 7, 1 sandbox."));
  EXPECT_THAT(html,
              HasSubstr("<tr><td class=\"w\">web-0</td><td class=\"w\">shop</td>"
                        "<td class=\"id\">sb1</td><td class=\"w\">/run/containerd/runsc/k8s.io</td>"
                        "<td class=\"w\"></td><td class=\"w\">ptrace</td><td class=\"w\">none</td>"
                        "<td class=\"n\">65.9 MiB</td><td class=\"n\">83.0 MiB</td>"
                        "<td class=\"n\">17.0 MiB</td><td class=\"n\">75.8 MiB</td>"
                        "<td>control_socket</td><td>off</td><td class=\"w\">app</td>"
                        "<td>1970-01-01 00:16:40 UTC</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<th>RuntimeClass</th>"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/sandboxes?format=json\">"));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
}

TEST(SandboxesHtmlTest, UnknownFiguresShowNa) {
  NodeSnapshot snap = MakeTestSnapshot();
  snap.sandboxes[0].usage = SandboxUsage{};
  snap.sandboxes[0].cgroup.reset();
  const std::string html = RenderSandboxesHtml(&snap, kNow);
  EXPECT_THAT(html, HasSubstr("<td class=\"n\">n/a</td><td class=\"n\">83.0 MiB</td>"
                              "<td class=\"n\">n/a</td><td class=\"n\">n/a</td><td>none</td>"));
}

TEST(SandboxesHtmlTest, HostileStringsAreEscapedBoundedAndValidUtf8) {
  const NodeSnapshot snap = HostileSnapshot();
  const std::string html = RenderSandboxesHtml(&snap, kNow);
  EXPECT_TRUE(IsValidUtf8(html));
  EXPECT_THAT(
      html,
      HasSubstr("<td class=\"w\">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;</td>"));
  EXPECT_THAT(html,
              HasSubstr("<td class=\"w\">&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;</td>"));
  EXPECT_THAT(html,
              HasSubstr("<td class=\"w\">c&quot;&lt;img src=x onerror=alert(1)&gt;\xEF\xBF\xBD"
                        "\xEF\xBF\xBD</td>"));
  EXPECT_THAT(html, HasSubstr("<td class=\"w\">bad\xEF\xBF\xBD"));
  // No markup from the data: the only tags are the page's own.
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_EQ(html.find("</table>"), html.rfind("</table>"));
  // The 10 KB root is cut to one bounded cell ending in an ellipsis.
  const size_t start = html.find("<td class=\"w\">rrrr");
  ASSERT_NE(start, std::string::npos);
  const size_t end = html.find("</td>", start);
  EXPECT_LE(end - start, std::string("<td class=\"w\">").size() + 256u);
  EXPECT_EQ(html.substr(end - 3, 3), "\xE2\x80\xA6");
  EXPECT_LT(html.size(), 8000u);
}

TEST(SandboxesHtmlTest, CutsLongValuesOnACharacterBoundary) {
  NodeSnapshot snap = MakeTestSnapshot();
  std::string pod;
  for (int i = 0; i < 200; ++i) pod += "\xC3\xA9";  // 400 bytes of 'é'
  // The cut (256 - 3 bytes for the ellipsis) falls inside a character.
  snap.sandboxes[0].info.pod_name = pod;
  EXPECT_TRUE(IsValidUtf8(RenderSandboxesHtml(&snap, kNow)));
}

TEST(SandboxesHtmlTest, BeforeTheFirstPollAndWithoutSandboxes) {
  const std::string first = RenderSandboxesHtml(nullptr, kNow);
  EXPECT_THAT(first, HasSubstr("first poll is in progress"));
  EXPECT_THAT(first, Not(HasSubstr("<table")));
  NodeSnapshot empty = MakeTestSnapshot();
  empty.sandboxes.clear();
  const std::string html = RenderSandboxesHtml(&empty, kNow);
  EXPECT_THAT(html, HasSubstr("0 sandboxes."));
  EXPECT_THAT(html, HasSubstr("<td colspan=\"15\">No sandboxes"));
  // A clock behind the snapshot never shows a negative age.
  EXPECT_THAT(RenderSandboxesHtml(&empty, 900), HasSubstr("(0.0 s ago)"));
}

}  // namespace
}  // namespace gvisor_exporter
