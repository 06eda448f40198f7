#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "exporter/collectors/metric_catalog.h"
#include "exporter/collectors/testing_snapshot.h"

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

PodInfo Pod(std::string id, std::string ns, std::string name, std::string handler, bool sandboxed,
            bool violation = false) {
  PodInfo p;
  p.id = std::move(id);
  p.pod_namespace = std::move(ns);
  p.name = std::move(name);
  p.uid = "u-" + p.name;
  p.ready = true;
  p.runtime_handler = std::move(handler);
  p.runtime_class = p.runtime_handler == "runsc" ? "gvisor" : "";
  p.sandboxed = sandboxed;
  p.policy_violation = violation;
  return p;
}

NodeSnapshot WithCri() {
  NodeSnapshot n = MakeTestSnapshot();
  n.sandboxes[0].runtime_handler = "runsc";
  n.sandboxes[0].runtime_class = "gvisor";
  CriState c;
  c.up = true;
  c.version = "0.1.0";
  c.runtime_name = "containerd";
  c.runtime_version = "1.6.20~ds1";
  c.policy_namespaces = {"shop", "untrusted"};
  c.pods = {Pod("rc1", "shop", "db-0", "runc", false, true),
            Pod("sb1", "shop", "web-0", "runsc", true), Pod("rc2", "tools", "debug", "", false)};
  n.cri = c;
  return n;
}

std::string Render(const NodeSnapshot& n) {
  Families f;
  SnapshotFamilies(n, &f);
  return prometheus::TextSerializer().Serialize(f);
}

TEST(RenderPodsTest, PodInfoForEveryPodAndRuntimeClassOnSandboxInfo) {
  const std::string text = Render(WithCri());
  EXPECT_THAT(text, HasSubstr(R"(gvisor_pod_info{namespace="shop",pod="web-0",uid="u-web-0",)"
                              R"(pod_sandbox_id="sb1",runtime_handler="runsc",)"
                              R"(runtime_class="gvisor",sandboxed="true",state="ready"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(pod="db-0",uid="u-db-0",pod_sandbox_id="rc1",)"
                              R"(runtime_handler="runc",runtime_class="",sandboxed="false")"));
  EXPECT_THAT(text, HasSubstr(R"(sentry_pid="4242",runtime_handler="runsc",)"
                              R"(runtime_class="gvisor"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_pods{runtime_handler="runsc",sandboxed="true"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_pods{runtime_handler="",sandboxed="false"} 1)"));
  EXPECT_THAT(text, HasSubstr("gvisor_cri_up 1\n"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_cri_info{version="0.1.0",runtime_name="containerd",)"
                              R"(runtime_version="1.6.20~ds1"} 1)"));
}

TEST(RenderPodsTest, PolicySeriesPerListedNamespace) {
  const std::string text = Render(WithCri());
  EXPECT_THAT(text, HasSubstr(R"(gvisor_policy_unsandboxed_pod{namespace="shop",pod="db-0",)"
                              R"(uid="u-db-0",runtime_handler="runc"} 1)"));
  EXPECT_THAT(text, Not(HasSubstr(R"(gvisor_policy_unsandboxed_pod{namespace="tools")")));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_policy_unsandboxed_pods{namespace="shop"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_policy_unsandboxed_pods{namespace="untrusted"} 0)"));
}

TEST(RenderPodsTest, TwoSandboxesOfOnePodAreOneViolationAndOneLabelsSeries) {
  NodeSnapshot n = WithCri();
  PodInfo old = n.cri->pods[0];
  old.id = "rc0";
  old.ready = false;
  old.policy_violation = false;
  n.cri->pods.insert(n.cri->pods.begin(), old);
  PodInfo twin = n.cri->pods[1];
  twin.id = "rc9";  // a second ready sandbox of the same pod (mid-restart)
  n.cri->pods.push_back(twin);
  n.cri->label_names = {"label_app"};
  for (auto& p : n.cri->pods) p.labels = {p.ready ? "ready" : "old"};
  const std::string text = Render(n);
  EXPECT_THAT(text, HasSubstr(R"(gvisor_policy_unsandboxed_pods{namespace="shop"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_pod_labels{namespace="shop",pod="db-0",uid="u-db-0",)"
                              R"(label_app="ready"} 1)"));
  EXPECT_THAT(text, Not(HasSubstr(R"(label_app="old")")));
}

TEST(RenderPodsTest, DownServesUpZeroAndNoPodsOrEmptyClassLabels) {
  NodeSnapshot n = WithCri();
  n.cri->up = false;
  n.cri->pods.clear();
  n.sandboxes[0].runtime_handler.clear();
  n.sandboxes[0].runtime_class.clear();
  const std::string text = Render(n);
  EXPECT_THAT(text, HasSubstr("gvisor_cri_up 0\n"));
  for (const char* absent : {"gvisor_pod_info", "gvisor_pods", "gvisor_policy_", "gvisor_cri_info",
                             "gvisor_pod_labels"}) {
    EXPECT_THAT(text, Not(HasSubstr(absent)));
  }
  EXPECT_THAT(text, HasSubstr(R"(runtime_handler="",runtime_class=""} 1)"));
}

TEST(RenderPodsTest, CriOffServesNothing) {
  NodeSnapshot n = MakeTestSnapshot();
  EXPECT_THAT(Render(n), Not(HasSubstr("gvisor_cri_up")));
}

TEST(RenderPodsTest, HostileLabelValuesAreSanitized) {
  NodeSnapshot n = WithCri();
  n.cri->label_names = {"label_app"};
  for (auto& p : n.cri->pods) p.labels = {"x\"\n\xff" + std::string(1000, 'y')};
  const std::string text = Render(n);
  EXPECT_THAT(text, HasSubstr(R"(label_app="x\"\n)"
                              "\xEF\xBF\xBD"));
  EXPECT_THAT(text, Not(HasSubstr(std::string(300, 'y'))));
}

}  // namespace
}  // namespace gvisor_exporter
