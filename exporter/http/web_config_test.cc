#include "exporter/http/web_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using ::testing::ElementsAre;
using testing::FixturePath;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

constexpr char kHash[] = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

TEST(WebConfigTest, ReadsEveryImplementedKey) {
  auto c = ReadWebConfigFile(FixturePath("exporter/http/testdata/web_config/full.yml"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->tls_enabled);
  const std::string dir = FixturePath("exporter/http/testdata/web_config");
  // Relative paths are relative to the file's directory, absolute ones kept.
  EXPECT_EQ(c->tls.cert_file, dir + "/server.crt");
  EXPECT_EQ(c->tls.key_file, "/etc/gvisor-exporter/tls/server.key");
  EXPECT_EQ(c->tls.client_ca_file, dir + "/ca.crt");
  EXPECT_EQ(c->tls.client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(c->tls.min_version, kTls12);
  EXPECT_EQ(c->tls.max_version, kTls13);
  EXPECT_THAT(c->tls.cipher_suites,
              ElementsAre("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"));
  EXPECT_FALSE(c->tls.prefer_server_cipher_suites);
  EXPECT_FALSE(c->http2);
  // A blank value unsets the header (exporter-toolkit), so X-XSS-Protection is absent.
  EXPECT_THAT(c->headers, ElementsAre(Pair("X-Frame-Options", "deny"),
                                      Pair("Strict-Transport-Security", "max-age=31536000")));
  EXPECT_THAT(c->basic_auth_users, ElementsAre(Pair("alice", kHash), Pair("prometheus", kHash)));
  EXPECT_EQ(c->source, FixturePath("exporter/http/testdata/web_config/full.yml"));
}

TEST(WebConfigTest, EmptyFileIsPlainHttpWithDefaults) {
  auto c = ReadWebConfigFile(FixturePath("exporter/http/testdata/web_config/empty.yml"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->tls_enabled);
  EXPECT_TRUE(c->basic_auth_users.empty());
  EXPECT_TRUE(c->headers.empty());
  EXPECT_TRUE(c->http2);
  EXPECT_EQ(c->tls.min_version, kTls12);
  EXPECT_TRUE(c->tls.prefer_server_cipher_suites);
}

TEST(WebConfigTest, BasicAuthWithoutTls) {
  auto c = ReadWebConfigFile(FixturePath("exporter/http/testdata/web_config/auth_only.yml"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_FALSE(c->tls_enabled);
  EXPECT_THAT(c->basic_auth_users, ElementsAre(Pair("prometheus", kHash)));
}

// Each bad file fails with the file's path first and the problem after it.
struct BadCase {
  const char* file;
  const char* message;
};

class BadWebConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadWebConfigTest, FailsNamingFileAndProblem) {
  const std::string path =
      FixturePath(std::string("exporter/http/testdata/web_config/") + GetParam().file);
  auto c = ReadWebConfigFile(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), StartsWith("web config " + path + ": "));
  EXPECT_THAT(c.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Files, BadWebConfigTest,
    ::testing::Values(
        BadCase{"unknown_key.yml", "unknown key tls_server_config.certfile"},
        BadCase{"missing_key_file.yml", "tls_server_config: missing key_file"},
        BadCase{"bad_bcrypt.yml", "basic_auth_users.prometheus: not a bcrypt hash"},
        BadCase{"bad_header.yml", "HTTP header \"Server\" can not be configured"},
        BadCase{"bad_header_value.yml",
                "invalid value for X-Frame-Options: expected one of \"deny\", \"sameorigin\""},
        BadCase{"ca_without_auth_type.yml", "client_ca_file is set without a client_auth_type"},
        BadCase{"bad_version.yml", "unknown TLS version \"TLS14\""},
        BadCase{"unsupported_inline_cert.yml", "inline certificates are not supported"},
        BadCase{"bad_yaml.yml", "bad YAML"}, BadCase{"does_not_exist.yml", "does_not_exist.yml"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string name = info.param.file;
      name = name.substr(0, name.find('.'));
      for (char& c : name) {
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

TEST(WebConfigTest, HashNeverInMessages) {
  // A hash of the right length but a bad cost: the message names the user only.
  const std::string bad = "$2y$99$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
  auto c = ParseWebConfig("basic_auth_users:\n  bob: '" + bad + "'\n", "");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("basic_auth_users.bob"));
  EXPECT_THAT(c.status().message(), ::testing::Not(HasSubstr("QOauhQ")));
}

TEST(WebConfigTest, StrictShapes) {
  EXPECT_FALSE(ParseWebConfig("- a\n- b\n", "").ok());
  EXPECT_FALSE(ParseWebConfig("tls_server_config: 3\n", "").ok());
  EXPECT_FALSE(ParseWebConfig("tls_server_config:\n  cert_file: [a]\n", "").ok());
  EXPECT_FALSE(ParseWebConfig("http_server_config:\n  http2: maybe\n", "").ok());
  EXPECT_FALSE(ParseWebConfig("rate_limit:\n  burst: 3\n", "").ok());
  EXPECT_FALSE(ParseWebConfig("basic_auth_users:\n  a: " + std::string(kHash) +
                                  "\n  a: " + std::string(kHash) + "\n",
                              "")
                   .ok());
  auto c = ParseWebConfig(
      "tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n"
      "  max_version: TLS12\n",
      "");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("min_version TLS13 is above max_version TLS12"));
  auto split = ParseWebConfig(
      "http_server_config:\n  headers:\n    Content-Security-Policy: \"a\\r\\nSet-Cookie: x\"\n",
      "");
  ASSERT_FALSE(split.ok());
  EXPECT_THAT(split.status().message(), HasSubstr("line breaks"));
}

TEST(WebConfigTest, ClientAuthTypes) {
  const std::pair<const char*, ClientAuth> cases[] = {
      {"NoClientCert", ClientAuth::kNoClientCert},
      {"RequestClientCert", ClientAuth::kRequestClientCert},
      {"RequireAnyClientCert", ClientAuth::kRequireAnyClientCert},
      {"RequireClientCert", ClientAuth::kRequireAnyClientCert},
      {"VerifyClientCertIfGiven", ClientAuth::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", ClientAuth::kRequireAndVerifyClientCert}};
  for (const auto& [name, want] : cases) {
    auto c = ParseWebConfig(std::string("tls_server_config:\n  cert_file: a\n  key_file: b\n"
                                        "  client_auth_type: ") +
                                name + "\n",
                            "/d");
    ASSERT_TRUE(c.ok()) << name << ": " << c.status().message();
    EXPECT_EQ(c->tls.client_auth, want) << name;
    EXPECT_EQ(c->tls.cert_file, "/d/a");
  }
  EXPECT_FALSE(
      ParseWebConfig("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Any\n",
                     "")
          .ok());
}

TEST(WebConfigTest, IsBcryptHash) {
  EXPECT_TRUE(IsBcryptHash(kHash));
  EXPECT_TRUE(IsBcryptHash("$2b$04$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"));
  EXPECT_FALSE(IsBcryptHash("$2x$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"));
  EXPECT_FALSE(IsBcryptHash("$2y$03$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"));
  EXPECT_FALSE(IsBcryptHash("$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeS"));
  EXPECT_FALSE(IsBcryptHash("$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDe!i"));
  EXPECT_FALSE(IsBcryptHash("$6$salt$hash"));
}

}  // namespace
}  // namespace gvisor_exporter
