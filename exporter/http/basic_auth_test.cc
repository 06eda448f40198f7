#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace gvisor_exporter {
namespace {

using ::testing::HasSubstr;

// bcrypt of `password` at cost 4 (fast), made by libxcrypt itself.
std::string Bcrypt(const std::string& password, const char* prefix = "$2b$") {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  EXPECT_NE(crypt_gensalt_rn(prefix, 4, nullptr, 0, salt, sizeof(salt)), nullptr);
  crypt_data data{};
  const char* out = crypt_rn(password.c_str(), salt, &data, sizeof(data));
  EXPECT_NE(out, nullptr);
  return out ? out : "";
}

// "Basic " + base64("user:password"), the way curl sends it.
std::string Header(const std::string& credentials) {
  static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Basic ";
  size_t i = 0;
  for (; i + 2 < credentials.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(credentials[i]) << 16) |
                       (static_cast<unsigned char>(credentials[i + 1]) << 8) |
                       static_cast<unsigned char>(credentials[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
  }
  if (i + 1 == credentials.size()) {
    const unsigned v = static_cast<unsigned char>(credentials[i]) << 16;
    out += std::string{kB64[(v >> 18) & 63], kB64[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == credentials.size()) {
    const unsigned v = (static_cast<unsigned char>(credentials[i]) << 16) |
                       (static_cast<unsigned char>(credentials[i + 1]) << 8);
    out += std::string{kB64[(v >> 18) & 63], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], '='};
  }
  return out;
}

TEST(BasicAuthTest, ParsesAuthorizationHeader) {
  std::string user, password;
  ASSERT_TRUE(ParseBasicAuthorization(Header("prometheus:s3cr:et"), &user, &password));
  EXPECT_EQ(user, "prometheus");
  EXPECT_EQ(password, "s3cr:et");  // split at the first colon
  ASSERT_TRUE(ParseBasicAuthorization("basic " + Header("a:b").substr(6), &user, &password));
  EXPECT_EQ(user, "a");
  EXPECT_EQ(password, "b");
  ASSERT_TRUE(ParseBasicAuthorization(Header("ab:"), &user, &password));
  EXPECT_EQ(password, "");
  EXPECT_FALSE(ParseBasicAuthorization("Bearer abc", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic ", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic bm9jb2xvbg==", &user, &password));  // "nocolon"
  EXPECT_FALSE(ParseBasicAuthorization("Basic !!!!", &user, &password));
  EXPECT_FALSE(ParseBasicAuthorization("Basic abc", &user, &password));
}

TEST(BasicAuthTest, ChecksPasswordsAgainstBcrypt) {
  auto auth = BasicAuth::Create({{"prometheus", Bcrypt("right")}, {"alice", Bcrypt("x", "$2y$")}});
  ASSERT_TRUE(auth.ok()) << auth.status().message();
  EXPECT_TRUE((*auth)->Check(Header("prometheus:right")));
  EXPECT_FALSE((*auth)->Check(Header("prometheus:wrong")));
  EXPECT_FALSE((*auth)->Check(Header("prometheus:righ")));
  EXPECT_FALSE((*auth)->Check(Header("Prometheus:right")));
  EXPECT_TRUE((*auth)->Check(Header("alice:x")));  // $2y$ (htpasswd's prefix)
  EXPECT_FALSE((*auth)->Check(Header("alice:right")));
  // exporter-toolkit's dummy hash is bcrypt("fakepassword"): an unknown user
  // with that password must still fail.
  EXPECT_FALSE((*auth)->Check(Header("nobody:fakepassword")));
  EXPECT_FALSE((*auth)->Check(""));
}

TEST(BasicAuthTest, CachesOutcomes) {
  auto auth = BasicAuth::Create({{"prometheus", Bcrypt("right")}});
  ASSERT_TRUE(auth.ok());
  BasicAuth& a = **auth;
  EXPECT_TRUE(a.Check(Header("prometheus:right")));
  EXPECT_EQ(a.bcrypt_runs(), 1);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(a.Check(Header("prometheus:right")));
  EXPECT_EQ(a.bcrypt_runs(), 1);  // served from the cache
  EXPECT_FALSE(a.Check(Header("prometheus:wrong")));
  EXPECT_FALSE(a.Check(Header("prometheus:wrong")));
  EXPECT_EQ(a.bcrypt_runs(), 2);  // failures are cached too
  // A full cache evicts but keeps answering correctly.
  for (size_t i = 0; i < BasicAuth::kCacheSize + 5; ++i) {
    EXPECT_FALSE(a.CheckCredentials("prometheus", "guess" + std::to_string(i)));
  }
  EXPECT_TRUE(a.Check(Header("prometheus:right")));
  EXPECT_FALSE(a.Check(Header("prometheus:wrong")));
}

TEST(BasicAuthTest, ConcurrentChecks) {
  auto auth = BasicAuth::Create({{"u", Bcrypt("p")}});
  ASSERT_TRUE(auth.ok());
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::atomic<int> ok{0}, rejected{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if ((*auth)->Check(Header(t % 2 ? "u:p" : "u:q"))) {
          ++ok;
        } else {
          ++rejected;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(rejected.load(), 80);
}

TEST(BasicAuthTest, RejectsHashesLibxcryptCannotUse) {
  for (const std::string& bad :
       {std::string("$2y$32$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"),  // cost > 31
        std::string("$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeS"),   // short
        std::string("$1$abcdefgh$QOauhQNbBCuQDKes6eFzPe")}) {                         // MD5-crypt
    auto auth = BasicAuth::Create({{"bob", bad}});
    ASSERT_FALSE(auth.ok()) << bad;
    EXPECT_THAT(auth.status().message(), HasSubstr("basic_auth_users.bob"));
    EXPECT_THAT(auth.status().message(), ::testing::Not(HasSubstr("QOauh")));
  }
  // The configured cost is not paid at start: a cost-31 hash is accepted at once.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(
      BasicAuth::Create({{"bob", "$2y$31$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"}})
          .ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace gvisor_exporter
