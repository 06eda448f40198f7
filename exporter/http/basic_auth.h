// HTTP basic authentication against `basic_auth_users` (bcrypt hashes), as
// exporter-toolkit's webHandler does it: an unknown user is checked against a
// fixed dummy hash (same time as a known one: no user enumeration by timing),
// bcrypt runs one at a time (it is slow on purpose: ~70 ms at cost 10), and
// each (user, hash, password) outcome is cached so a scraper's every request
// does not pay bcrypt. Unlike exporter-toolkit's cache, which keys on the
// plaintext, ours keys on SHA-256 of the three, so no password is kept in
// memory. Verification is libxcrypt's crypt_rn ($2a$, $2b$, $2y$); the
// computed hash is compared in constant time.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "exporter/common/status.h"

namespace gvisor_exporter {

class BasicAuth {
 public:
  // Fails (naming the user, never the hash) when libxcrypt rejects a hash.
  static StatusOr<std::unique_ptr<BasicAuth>> Create(std::map<std::string, std::string> users);

  // Whether the Authorization header value ("Basic <base64 user:password>")
  // names a user whose bcrypt hash matches the password. Anything malformed
  // is false.
  bool Check(std::string_view authorization);
  // The same with the decoded credentials.
  bool CheckCredentials(std::string_view user, std::string_view password);

  // bcrypt computations so far (tests: the cache must spare them).
  int bcrypt_runs() const;

  // Cache entries kept at most (exporter-toolkit's size); then one is evicted.
  static constexpr size_t kCacheSize = 100;

 private:
  explicit BasicAuth(std::map<std::string, std::string> users) : users_(std::move(users)) {}
  using Digest = std::array<unsigned char, 32>;
  std::map<std::string, std::string> users_;
  std::mutex cache_mu_;
  std::map<Digest, bool> cache_;  // guarded by cache_mu_
  std::mutex bcrypt_mu_;          // one bcrypt at a time (CPU)
  std::atomic<int> bcrypt_runs_{0};
};

// Decodes "Basic <base64>" into user and password (split at the first ':');
// false when it is not that.
bool ParseBasicAuthorization(std::string_view header, std::string* user, std::string* password);

}  // namespace gvisor_exporter
