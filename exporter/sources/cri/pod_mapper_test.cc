#include "exporter/sources/cri/pod_mapper.h"

#include <gtest/gtest.h>

#include "exporter/sources/cri/test_util.h"

namespace gvisor_exporter {
namespace {

using cri_testing::LoadReply;

// Ids in testdata/list_pod_sandbox.json (containerd 1.6.20, 6 runsc + 3 runc pods).
constexpr char kGvisorA[] = "942a6d535a6efbf1f7593b877ae5da4b1aa9a4d5e15e33bdc8b8240cc216a467";

std::vector<CriPod> RecordedPods(const std::vector<std::string>& labels = {}) {
  auto list = LoadReply<runtime::v1::ListPodSandboxResponse>("list_pod_sandbox.json");
  std::vector<CriPod> out;
  for (const auto& item : list.items()) {
    auto p = ValidatePod(item, labels);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (p.ok()) out.push_back(*p);
  }
  return out;
}

MappingConfig DefaultConfig() {
  MappingConfig c;
  c.gvisor_handlers = {"runsc"};
  c.runtime_classes = {{"runsc", "gvisor"}};
  return c;
}

SandboxInfo Sandbox(const std::string& id) {
  SandboxInfo s;
  s.root = "/run/containerd/runsc/k8s.io";
  s.id = id;
  return s;
}

const PodInfo& Find(const std::vector<PodInfo>& pods, const std::string& name) {
  for (const PodInfo& p : pods) {
    if (p.name == name) return p;
  }
  ADD_FAILURE() << "no pod " << name;
  static const PodInfo none;
  return none;
}

TEST(PodMapperTest, MapsEveryRecordedPodWithHandlerAndClass) {
  auto pods = MapPods(RecordedPods(), DefaultConfig(), {}, {});
  ASSERT_EQ(pods.size(), 9u);
  int sandboxed = 0;
  for (const PodInfo& p : pods) {
    EXPECT_EQ(p.pod_namespace, "default");
    EXPECT_TRUE(p.ready);  // state omitted on the wire = SANDBOX_READY
    EXPECT_EQ(p.sandboxed, p.runtime_handler == "runsc") << p.name;
    EXPECT_EQ(p.runtime_class, p.runtime_handler == "runsc" ? "gvisor" : "") << p.name;
    EXPECT_FALSE(p.policy_violation);
    sandboxed += p.sandboxed;
  }
  EXPECT_EQ(sandboxed, 6);
  const PodInfo& a = Find(pods, "pod-gvisor-a");
  EXPECT_EQ(a.id, kGvisorA);
  EXPECT_EQ(a.uid, "c763682f-53e1-4621-91c8-473e39cfe8d8");
  // Sorted by (namespace, name, id).
  for (size_t i = 1; i < pods.size(); ++i) EXPECT_LT(pods[i - 1].name, pods[i].name);
}

TEST(PodMapperTest, HandlerIsGvisorWhenItsPodsAreSandboxesUnderARunscRoot) {
  MappingConfig c = DefaultConfig();
  c.gvisor_handlers.clear();  // nothing declared
  auto pods = RecordedPods();
  std::set<std::string> learned;
  LearnGvisorHandlers(pods, {}, {Sandbox(kGvisorA)}, &learned);
  EXPECT_EQ(learned, std::set<std::string>{"runsc"});
  auto mapped = MapPods(pods, c, learned, {Sandbox(kGvisorA)});
  for (const PodInfo& p : mapped) EXPECT_EQ(p.sandboxed, p.runtime_handler == "runsc") << p.name;
  // Without any evidence, nothing is sandboxed...
  mapped = MapPods(pods, c, {}, {});
  for (const PodInfo& p : mapped) EXPECT_FALSE(p.sandboxed);
  // ...except a pod whose own id is a live sandbox.
  mapped = MapPods(pods, c, {}, {Sandbox(kGvisorA)});
  EXPECT_TRUE(Find(mapped, "pod-gvisor-a").sandboxed);
  EXPECT_FALSE(Find(mapped, "pod-gvisor-b").sandboxed);
}

TEST(PodMapperTest, RunscShimRuntimeTypeMarksTheHandler) {
  auto pods = RecordedPods();
  std::map<std::string, VerboseInfo> verbose;
  verbose[kGvisorA].runtime_type = kRunscRuntimeType;
  std::set<std::string> learned;
  LearnGvisorHandlers(pods, verbose, {}, &learned);
  EXPECT_EQ(learned, std::set<std::string>{"runsc"});
  verbose[kGvisorA].runtime_type = "io.containerd.runc.v2";
  learned.clear();
  LearnGvisorHandlers(pods, verbose, {}, &learned);
  EXPECT_TRUE(learned.empty());
}

TEST(PodMapperTest, DefaultHandlerIsEmptyAndCanBeGvisor) {
  runtime::v1::PodSandbox item;
  item.set_id(std::string(64, 'a'));
  item.mutable_metadata()->set_name("p");
  item.mutable_metadata()->set_namespace_("ns");
  auto p = ValidatePod(item, {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->runtime_handler, "");
  EXPECT_EQ(p->uid, "");
  std::set<std::string> learned;
  LearnGvisorHandlers({*p}, {}, {Sandbox(std::string(64, 'a'))}, &learned);
  EXPECT_EQ(learned, std::set<std::string>{""});
  EXPECT_TRUE(MapPods({*p}, MappingConfig(), learned, {})[0].sandboxed);
}

TEST(PodMapperTest, PolicyFlagsReadyUnsandboxedPodsInListedNamespaces) {
  std::vector<CriPod> pods = RecordedPods();
  MappingConfig c = DefaultConfig();
  c.policy_namespaces = {"default"};
  pods[0].ready = false;  // a stopped sandbox runs nothing
  const std::string stopped = pods[0].name;
  auto mapped = MapPods(pods, c, {}, {});
  int violations = 0;
  for (const PodInfo& p : mapped) {
    EXPECT_EQ(p.policy_violation, p.runtime_handler == "runc" && p.name != stopped) << p.name;
    violations += p.policy_violation;
  }
  EXPECT_EQ(violations, pods[0].runtime_handler == "runc" ? 2 : 3);
  c.policy_namespaces = {"sandbox", "untrusted"};
  for (const PodInfo& p : MapPods(pods, c, {}, {})) EXPECT_FALSE(p.policy_violation);
}

TEST(PodMapperTest, LabelAllowlistKeepsOnlyListedKeysInOrder) {
  auto pods =
      MapPods(RecordedPods({"io.kubernetes.pod.uid", "app", "team"}), DefaultConfig(), {}, {});
  const PodInfo& a = Find(pods, "pod-gvisor-a");
  EXPECT_EQ(a.labels, (std::vector<std::string>{a.uid, "pod-gvisor-a", ""}));
}

TEST(PodMapperTest, OversizedLabelValueIsDroppedNotThePod) {
  runtime::v1::PodSandbox item;
  item.set_id("abc");
  item.mutable_metadata()->set_name("p");
  item.mutable_metadata()->set_namespace_("ns");
  (*item.mutable_labels())["app"] = std::string(kMaxCriLabelValueBytes + 1, 'v');
  (*item.mutable_labels())["team"] = "t";
  auto p = ValidatePod(item, {"app", "team"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->labels, (std::vector<std::string>{"", "t"}));
  EXPECT_EQ(p->dropped_labels, std::vector<std::string>{"app"});
}

TEST(PodMapperTest, RejectsInvalidIdsAndNames) {
  auto make = [](std::string id, std::string name, std::string ns, std::string uid,
                 std::string handler) {
    runtime::v1::PodSandbox item;
    item.set_id(id);
    item.mutable_metadata()->set_name(name);
    item.mutable_metadata()->set_namespace_(ns);
    item.mutable_metadata()->set_uid(uid);
    item.set_runtime_handler(handler);
    return ValidatePod(item, {});
  };
  EXPECT_TRUE(make("abc", "p", "ns", "u-1", "runsc").ok());
  for (const auto& r :
       {make("", "p", "ns", "", ""), make("../x", "p", "ns", "", ""),
        make(std::string(200, 'a'), "p", "ns", "", ""), make("abc", "", "ns", "", ""),
        make("abc", "p", "", "", ""), make("abc", "p\n", "ns", "", ""),
        make("abc", "p", "n s", "", ""), make("abc", "p", "ns", "u\"", ""),
        make("abc", "p", "ns", "", "run/sc"), make("abc", std::string(254, 'p'), "ns", "", ""),
        make("abc", "p\xff", "ns", "", "")}) {
    EXPECT_EQ(r.status().reason(), Reason::kInvalid);
  }
  EXPECT_EQ(make("../x", "p", "ns", "", "").status().message().find('\n'), std::string::npos);
}

TEST(PodMapperTest, LabelKeysAndNames) {
  EXPECT_TRUE(IsValidLabelKey("app"));
  EXPECT_TRUE(IsValidLabelKey("app.kubernetes.io/name"));
  EXPECT_FALSE(IsValidLabelKey(""));
  EXPECT_FALSE(IsValidLabelKey("a/b/c"));
  EXPECT_FALSE(IsValidLabelKey("/x"));
  EXPECT_FALSE(IsValidLabelKey("x/"));
  EXPECT_FALSE(IsValidLabelKey("a b"));
  EXPECT_FALSE(IsValidLabelKey(std::string(64, 'a')));
  EXPECT_EQ(PodLabelName("app.kubernetes.io/name"), "label_app_kubernetes_io_name");
  EXPECT_EQ(PodLabelName("team-a"), "label_team_a");
}

TEST(PodMapperTest, ParsesRuntimeClassMap) {
  auto m = ParseRuntimeClasses("runsc=gvisor,runsc-kvm=gvisor-kvm,");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m,
            (std::map<std::string, std::string>{{"runsc", "gvisor"}, {"runsc-kvm", "gvisor-kvm"}}));
  EXPECT_TRUE(ParseRuntimeClasses("")->empty());
  EXPECT_FALSE(ParseRuntimeClasses("runsc").ok());
  EXPECT_FALSE(ParseRuntimeClasses("=gvisor").ok());
  EXPECT_FALSE(ParseRuntimeClasses("runsc=").ok());
  EXPECT_FALSE(ParseRuntimeClasses("runsc=a,runsc=b").ok());
  EXPECT_FALSE(ParseRuntimeClasses("run sc=a").ok());
}

TEST(PodMapperTest, LearnedHandlersAreBounded) {
  std::vector<CriPod> pods;
  std::vector<SandboxInfo> live;
  for (size_t i = 0; i < kMaxLearnedHandlers + 10; ++i) {
    CriPod p;
    p.id = "id" + std::to_string(i);
    p.runtime_handler = "h" + std::to_string(i);
    pods.push_back(p);
    live.push_back(Sandbox(p.id));
  }
  std::set<std::string> learned;
  LearnGvisorHandlers(pods, {}, live, &learned);
  EXPECT_EQ(learned.size(), kMaxLearnedHandlers);
}

}  // namespace
}  // namespace gvisor_exporter
