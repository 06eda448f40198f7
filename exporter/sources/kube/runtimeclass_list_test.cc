#include "exporter/sources/kube/runtimeclass_list.h"

#include <gtest/gtest.h>

#include <string>

#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

std::string Testdata(const std::string& name) {
  return testing::ReadFixture("exporter/sources/kube/testdata/" + name);
}

std::string List(const std::string& items) {
  return R"({"kind":"RuntimeClassList","apiVersion":"node.k8s.io/v1","metadata":{},"items":[)" +
         items + "]}";
}

TEST(RuntimeClassListTest, ParsesARecordedList) {
  auto r = ParseRuntimeClassList(Testdata("runtimeclass_list.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->rejected.empty());
  ASSERT_EQ(r->classes.size(), 4u);
  const RuntimeClassInfo& g = r->classes[0];
  EXPECT_EQ(g.name, "gvisor");
  EXPECT_EQ(g.handler, "runsc");
  EXPECT_EQ(g.overhead_memory_bytes, 64u << 20);
  EXPECT_DOUBLE_EQ(g.overhead_cpu_cores.value_or(-1), 0.1);
  EXPECT_EQ(r->classes[1].name, "gvisor-kvm");
  EXPECT_EQ(r->classes[1].overhead_memory_bytes, 96u << 20);
  EXPECT_EQ(r->classes[2].name, "gvisor-ptrace");
  EXPECT_DOUBLE_EQ(r->classes[2].overhead_cpu_cores.value_or(-1), 0.25);
  const RuntimeClassInfo& kata = r->classes[3];
  EXPECT_EQ(kata.handler, "kata");
  EXPECT_FALSE(kata.overhead_memory_bytes);
  EXPECT_FALSE(kata.overhead_cpu_cores);
}

TEST(RuntimeClassListTest, EmptyAndNullItems) {
  auto r = ParseRuntimeClassList(List(""));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->classes.empty());
  r = ParseRuntimeClassList(R"({"kind":"RuntimeClassList","items":null})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->classes.empty());
}

TEST(RuntimeClassListTest, OverheadPartsAreOptional) {
  auto r = ParseRuntimeClassList(
      List(R"({"metadata":{"name":"a"},"handler":"runsc","overhead":{"podFixed":{"cpu":"1"}}},)"
           R"({"metadata":{"name":"b"},"handler":"runsc","overhead":{}},)"
           R"({"metadata":{"name":"c"},"handler":"runsc","overhead":null})"));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->classes.size(), 3u);
  EXPECT_FALSE(r->classes[0].overhead_memory_bytes);
  EXPECT_DOUBLE_EQ(*r->classes[0].overhead_cpu_cores, 1);
  EXPECT_FALSE(r->classes[1].overhead_cpu_cores);
}

TEST(RuntimeClassListTest, BadItemsAreSkippedAndNamed) {
  auto r = ParseRuntimeClassList(Testdata("fuzz_seeds/runtimeclass_list_fuzz/list_bad_items.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->classes.size(), 1u);
  EXPECT_EQ(r->classes[0].name, "ok");
  EXPECT_EQ(r->classes[0].handler, "runsc");  // the first of a duplicated name wins
  ASSERT_EQ(r->rejected.size(), 5u);
  EXPECT_EQ(r->rejected[0].reason(), Reason::kInvalid);  // Bad_Name
  EXPECT_EQ(r->rejected[1].reason(), Reason::kParse);    // no handler
  EXPECT_EQ(r->rejected[2].reason(), Reason::kInvalid);  // negative memory
  EXPECT_EQ(r->rejected[3].reason(), Reason::kParse);    // cpu as a number
  EXPECT_EQ(r->rejected[4].reason(), Reason::kInvalid);  // listed twice
}

TEST(RuntimeClassListTest, WrongTypesInItems) {
  for (const char* item :
       {R"(5)", R"({"metadata":"x","handler":"runsc"})", R"({"metadata":{"name":7},"handler":"r"})",
        R"({"metadata":{"name":"a"},"handler":["runsc"]})",
        R"({"metadata":{"name":"a"},"handler":"runsc","overhead":[]})",
        R"({"metadata":{"name":"a"},"handler":"runsc","overhead":{"podFixed":"64Mi"}})",
        R"({"metadata":{"name":"a"},"handler":"runsc","overhead":{"podFixed":{"memory":"64 Mi"}}})",
        R"({"metadata":{"name":"a"},"handler":"run.sc"})",
        R"({"metadata":{"name":"-a"},"handler":"runsc"})"}) {
    auto r = ParseRuntimeClassList(List(item));
    ASSERT_TRUE(r.ok()) << item;
    EXPECT_TRUE(r->classes.empty()) << item;
    EXPECT_EQ(r->rejected.size(), 1u) << item;
  }
}

TEST(RuntimeClassListTest, RejectsWhatIsNotAList) {
  for (const std::string& doc :
       {std::string(""), std::string("garbage"), std::string("[]"), std::string("{}"),
        std::string(R"({"kind":"RuntimeClass","items":[]})"),
        std::string(R"({"kind":"RuntimeClassList","items":{}})"),
        std::string(R"({"kind":"RuntimeClassList","items":[]} trailing)"),
        std::string(R"({"kind":"RuntimeClassList","items":[]})") + '\0',
        Testdata("fuzz_seeds/runtimeclass_list_fuzz/status_forbidden.json")}) {
    EXPECT_FALSE(ParseRuntimeClassList(doc).ok()) << doc;
  }
}

TEST(RuntimeClassListTest, BoundsSizeCountAndDepth) {
  std::string items;
  for (size_t i = 0; i <= kMaxRuntimeClasses; ++i) {
    items += (i ? "," : "") + std::string(R"({"metadata":{"name":"c)") + std::to_string(i) +
             R"("},"handler":"runsc"})";
  }
  EXPECT_EQ(ParseRuntimeClassList(List(items)).status().reason(), Reason::kTooLarge);
  std::string huge = List(R"({"metadata":{"name":"a","x":")" +
                          std::string(kMaxRuntimeClassListBytes, 'x') + R"("},"handler":"r"})");
  EXPECT_EQ(ParseRuntimeClassList(huge).status().reason(), Reason::kTooLarge);
  EXPECT_EQ(
      ParseRuntimeClassList(List(std::string(100, '[') + std::string(100, ']'))).status().reason(),
      Reason::kTooLarge);
  std::string long_name(254, 'a');
  auto r = ParseRuntimeClassList(
      List(R"({"metadata":{"name":")" + long_name + R"("},"handler":"runsc"})"));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->classes.empty());
}

TEST(RuntimeClassListTest, DnsNames) {
  EXPECT_TRUE(IsValidDnsSubdomain("gvisor.example.com"));
  EXPECT_TRUE(IsValidDnsSubdomain("a"));
  EXPECT_FALSE(IsValidDnsSubdomain(""));
  EXPECT_FALSE(IsValidDnsSubdomain("A"));
  EXPECT_FALSE(IsValidDnsSubdomain("a_b"));
  EXPECT_FALSE(IsValidDnsSubdomain("a."));
  EXPECT_TRUE(IsValidDnsLabel("runsc-kvm"));
  EXPECT_FALSE(IsValidDnsLabel("runsc.kvm"));
  EXPECT_FALSE(IsValidDnsLabel(std::string(64, 'a')));
}

}  // namespace
}  // namespace gvisor_exporter
