// Flags of the CRI source (pods, RuntimeClasses, policy).
#include <gtest/gtest.h>

#include "exporter/app/flags.h"

namespace gvisor_exporter {
namespace {

TEST(CriFlagsTest, Defaults) {
  auto f = ParseFlags({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->cri_endpoint, "unix:///run/containerd/containerd.sock");
  EXPECT_EQ(f->cri_timeout, std::chrono::seconds(2));
  EXPECT_TRUE(f->cri_pod_labels.empty());
  EXPECT_EQ(f->runtime_handlers, std::vector<std::string>{"runsc"});
  EXPECT_EQ(f->runtime_classes, (std::map<std::string, std::string>{{"runsc", "gvisor"}}));
  EXPECT_TRUE(f->policy_sandboxed_namespaces.empty());
}

TEST(CriFlagsTest, ParsesEveryCriFlag) {
  auto f = ParseFlags({"--cri.endpoint=unix:///tmp/c.sock", "--cri.timeout", "500ms",
                       "--cri.pod-labels=app,app.kubernetes.io/name", "--cri.pod-labels=team",
                       "--runtime.handlers=runsc,runsc-kvm", "--runtime.handlers=runsc-ptrace",
                       "--runtime.classes=runsc=gvisor,runsc-kvm=gvisor-kvm",
                       "--runtime.classes=runsc-ptrace=gvisor-ptrace",
                       "--policy.sandboxed-namespaces=sandbox,untrusted"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->cri_endpoint, "unix:///tmp/c.sock");
  EXPECT_EQ(f->cri_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(f->cri_pod_labels, (std::vector<std::string>{"app", "app.kubernetes.io/name", "team"}));
  EXPECT_EQ(f->runtime_handlers, (std::vector<std::string>{"runsc", "runsc-kvm", "runsc-ptrace"}));
  EXPECT_EQ(
      f->runtime_classes,
      (std::map<std::string, std::string>{
          {"runsc", "gvisor"}, {"runsc-kvm", "gvisor-kvm"}, {"runsc-ptrace", "gvisor-ptrace"}}));
  EXPECT_EQ(f->policy_sandboxed_namespaces, (std::vector<std::string>{"sandbox", "untrusted"}));
}

TEST(CriFlagsTest, EmptyValuesDisable) {
  auto f = ParseFlags({"--cri.endpoint=", "--runtime.handlers=", "--runtime.classes="});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->cri_endpoint, "");
  EXPECT_TRUE(f->runtime_handlers.empty());
  EXPECT_TRUE(f->runtime_classes.empty());
}

TEST(CriFlagsTest, RejectsBadValues) {
  for (const char* bad :
       {"--cri.timeout=0s", "--cri.timeout=x", "--cri.pod-labels=a b", "--cri.pod-labels=a/b/c",
        "--cri.pod-labels=a-b,a.b",  // both would be label_a_b
        "--runtime.handlers=run\"sc", "--runtime.classes=runsc", "--runtime.classes=runsc=",
        "--runtime.classes=runsc=a,runsc=b", "--policy.sandboxed-namespaces=a/b"}) {
    EXPECT_FALSE(ParseFlags({bad}).ok()) << bad;
  }
  std::string many = "--cri.pod-labels=";
  for (int i = 0; i < 33; ++i) many += "k" + std::to_string(i) + ",";
  EXPECT_FALSE(ParseFlags({many}).ok());
}

}  // namespace
}  // namespace gvisor_exporter
