#include "exporter/http/tls_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;

// Certificates made with the openssl CLI in a fresh temp dir (test-only keys,
// never committed).
class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gve-tls-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    MakeCert("a");
    MakeCert("b");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void MakeCert(const std::string& name) {
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-days 1 -subj /CN=" +
        name + " -keyout " + Path(name + ".key") + " -out " + Path(name + ".crt") + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void Copy(const std::string& from, const std::string& to) {
    std::filesystem::copy_file(Path(from), Path(to),
                               std::filesystem::copy_options::overwrite_existing);
  }
  TlsServerConfig Config() const {
    TlsServerConfig c;
    c.cert_file = Path("server.crt");
    c.key_file = Path("server.key");
    return c;
  }

  std::string dir_;
};

TEST_F(TlsContextTest, LoadsPairAndReloadsWhenFilesChange) {
  Copy("a.crt", "server.crt");
  Copy("a.key", "server.key");
  auto tls = TlsContext::Create(Config());
  ASSERT_TRUE(tls.ok()) << tls.status().message();
  ASSERT_NE((*tls)->ssl_ctx(), nullptr);
  EXPECT_FALSE((*tls)->RefreshKeyPair());  // unchanged
  EXPECT_EQ((*tls)->reloads(), 0);
  // Rotation: new files (new inodes, as a Secret volume's symlink swap gives).
  std::filesystem::remove(Path("server.crt"));
  std::filesystem::remove(Path("server.key"));
  Copy("b.crt", "server.crt");
  Copy("b.key", "server.key");
  EXPECT_TRUE((*tls)->RefreshKeyPair());
  EXPECT_EQ((*tls)->reloads(), 1);
  // Half-rotated (cert of a, key of b): the last good pair stays.
  std::filesystem::remove(Path("server.crt"));
  Copy("a.crt", "server.crt");
  EXPECT_FALSE((*tls)->RefreshKeyPair());
  EXPECT_EQ((*tls)->reloads(), 1);
  std::filesystem::remove(Path("server.key"));
  Copy("a.key", "server.key");
  EXPECT_TRUE((*tls)->RefreshKeyPair());
  EXPECT_EQ((*tls)->reloads(), 2);
}

TEST_F(TlsContextTest, BadFilesFailAtStartNamingTheFile) {
  auto missing = TlsContext::Create(Config());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("cannot read cert_file " + Path("server.crt")));

  Copy("a.crt", "server.crt");
  Copy("b.key", "server.key");
  auto mismatch = TlsContext::Create(Config());
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(mismatch.status().message(), HasSubstr("does not match the certificate"));

  Copy("a.key", "server.key");
  std::ofstream(Path("server.crt")) << "not a certificate\n";
  auto garbage = TlsContext::Create(Config());
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(garbage.status().message(), HasSubstr("no PEM certificate"));

  Copy("a.crt", "server.crt");
  TlsServerConfig c = Config();
  c.client_auth = ClientAuth::kRequireAndVerifyClientCert;
  c.client_ca_file = Path("nope.crt");
  auto ca = TlsContext::Create(c);
  ASSERT_FALSE(ca.ok());
  EXPECT_THAT(ca.status().message(), HasSubstr("client_ca_file " + Path("nope.crt")));
}

TEST_F(TlsContextTest, CipherSuitesByGoName) {
  Copy("a.crt", "server.crt");
  Copy("a.key", "server.key");
  TlsServerConfig c = Config();
  c.cipher_suites = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"};
  auto ok = TlsContext::Create(c);
  EXPECT_TRUE(ok.ok()) << ok.status().message();
  c.cipher_suites = {"TLS_MADE_UP"};
  auto bad = TlsContext::Create(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("unknown cipher suite TLS_MADE_UP"));
}

}  // namespace
}  // namespace gvisor_exporter
