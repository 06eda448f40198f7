// Flags of the Kubernetes API source (RuntimeClasses).
#include <gtest/gtest.h>

#include "exporter/app/flags.h"

namespace gvisor_exporter {
namespace {

TEST(KubeFlagsTest, Defaults) {
  auto f = ParseFlags({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->kubernetes_api, "");  // off
  EXPECT_EQ(f->kubernetes_token_file, "/var/run/secrets/kubernetes.io/serviceaccount/token");
  EXPECT_EQ(f->kubernetes_ca_file, "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
  EXPECT_EQ(f->kubernetes_refresh, std::chrono::minutes(5));
  EXPECT_EQ(f->kubernetes_timeout, std::chrono::seconds(5));
}

TEST(KubeFlagsTest, ParsesEveryKubernetesFlag) {
  auto f = ParseFlags({"--kubernetes.api=https://127.0.0.1:6443/", "--kubernetes.token-file",
                       "/tmp/token", "--kubernetes.ca-file=/tmp/ca.crt", "--kubernetes.refresh=1s",
                       "--kubernetes.timeout=750ms"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->kubernetes_api, "https://127.0.0.1:6443");
  EXPECT_EQ(f->kubernetes_token_file, "/tmp/token");
  EXPECT_EQ(f->kubernetes_ca_file, "/tmp/ca.crt");
  EXPECT_EQ(f->kubernetes_refresh, std::chrono::seconds(1));
  EXPECT_EQ(f->kubernetes_timeout, std::chrono::milliseconds(750));
}

TEST(KubeFlagsTest, InClusterIsResolvedAtStartNotAtParse) {
  // Parsing must not depend on the environment: `--help` works anywhere.
  auto f = ParseFlags({"--kubernetes.api=in-cluster"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->kubernetes_api, "in-cluster");
}

TEST(KubeFlagsTest, OffAndEmptyDisable) {
  for (const char* off : {"--kubernetes.api=off", "--kubernetes.api="}) {
    auto f = ParseFlags({"--kubernetes.api=in-cluster", off});
    ASSERT_TRUE(f.ok()) << off;
    EXPECT_EQ(f->kubernetes_api, "") << off;
  }
}

TEST(KubeFlagsTest, RejectsBadValues) {
  for (const char* bad :
       {"--kubernetes.api=http://127.0.0.1:8080", "--kubernetes.api=127.0.0.1:6443",
        "--kubernetes.api=https://host/path", "--kubernetes.api=on", "--kubernetes.refresh=0s",
        "--kubernetes.refresh=x", "--kubernetes.timeout=0ms", "--kubernetes.timeout"}) {
    EXPECT_FALSE(ParseFlags({bad}).ok()) << bad;
  }
}

}  // namespace
}  // namespace gvisor_exporter
