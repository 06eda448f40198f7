#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include "exporter/collectors/metric_catalog.h"
#include "exporter/collectors/testing_snapshot.h"

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Render(const NodeSnapshot& n) {
  Families f;
  SnapshotFamilies(n, &f);
  return prometheus::TextSerializer().Serialize(f);
}

NodeSnapshot WithClasses(bool up) {
  NodeSnapshot n = MakeTestSnapshot();
  KubeState k;
  k.up = up;
  k.runtime_classes = std::vector<RuntimeClassInfo>{{"gvisor", "runsc", 64u << 20, 0.1},
                                                    {"kata", "kata", std::nullopt, std::nullopt}};
  n.kube = k;
  return n;
}

TEST(RenderKubeTest, ClassesAndDeclaredOverhead) {
  const std::string text = Render(WithClasses(true));
  EXPECT_THAT(text, HasSubstr("gvisor_kubernetes_api_up 1\n"));
  EXPECT_THAT(text,
              HasSubstr(R"(gvisor_runtimeclass_info{runtime_class="gvisor",handler="runsc"} 1)"));
  EXPECT_THAT(text,
              HasSubstr(R"(gvisor_runtimeclass_info{runtime_class="kata",handler="kata"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(gvisor_runtimeclass_overhead_memory_bytes{runtime_class="gvisor"} 67108864)"));
  EXPECT_THAT(text,
              HasSubstr(R"(gvisor_runtimeclass_overhead_cpu_cores{runtime_class="gvisor"} 0.1)"));
  // Not declared: absent, not 0.
  EXPECT_THAT(text, Not(HasSubstr(R"(overhead_memory_bytes{runtime_class="kata"})")));
  EXPECT_THAT(text, Not(HasSubstr(R"(overhead_cpu_cores{runtime_class="kata"})")));
}

TEST(RenderKubeTest, DownKeepsTheLastGoodClasses) {
  const std::string text = Render(WithClasses(false));
  EXPECT_THAT(text, HasSubstr("gvisor_kubernetes_api_up 0\n"));
  EXPECT_THAT(text, HasSubstr(R"(gvisor_runtimeclass_info{runtime_class="gvisor")"));
}

TEST(RenderKubeTest, DownBeforeAnyListHasOnlyUp) {
  NodeSnapshot n = MakeTestSnapshot();
  n.kube = KubeState{};
  const std::string text = Render(n);
  EXPECT_THAT(text, HasSubstr("gvisor_kubernetes_api_up 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("gvisor_runtimeclass_")));
}

TEST(RenderKubeTest, OffRendersNothing) {
  const std::string text = Render(MakeTestSnapshot());
  EXPECT_THAT(text, Not(HasSubstr("gvisor_kubernetes_api_up")));
  EXPECT_THAT(text, Not(HasSubstr("gvisor_runtimeclass_")));
}

}  // namespace
}  // namespace gvisor_exporter
