#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <vector>

#include "exporter/http/web_config.h"

namespace gvisor_exporter {

namespace {

// exporter-toolkit's stand-in for unknown users: bcrypt of "fakepassword".
constexpr char kDummyHash[] = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

// Whether bcrypt(password) under `hash`'s salt and cost equals `hash`.
bool BcryptMatches(std::string_view password, const std::string& hash) {
  // crypt_data is ~32 KiB: on the heap, not a civetweb worker's stack.
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);  // NUL-terminated for libxcrypt
  if (phrase.find('\0') != std::string::npos) return false;
  const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  bool match = out != nullptr && std::strlen(out) == hash.size() &&
               CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
  OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  return match;
}

void AppendField(std::string_view field, std::vector<unsigned char>* out) {
  const uint64_t n = field.size();
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<unsigned char>(n >> (8 * i)));
  out->insert(out->end(), field.begin(), field.end());
}

}  // namespace

StatusOr<std::unique_ptr<BasicAuth>> BasicAuth::Create(std::map<std::string, std::string> users) {
  for (const auto& [user, hash] : users) {
    // Messages name the user, never the hash.
    if (!IsBcryptHash(hash)) {
      return InvalidError("basic_auth_users." + user + ": not a bcrypt hash");
    }
    // libxcrypt must accept the prefix and salt: hash once at the cheapest
    // cost (the configured cost, up to 31, could take hours here).
    std::string cheap = hash.substr(0, 29);
    cheap[4] = '0';
    cheap[5] = '4';
    auto data = std::make_unique<crypt_data>();
    if (crypt_rn("", cheap.c_str(), data.get(), sizeof(crypt_data)) == nullptr) {
      return InvalidError("basic_auth_users." + user +
                          ": libxcrypt does not accept this bcrypt hash (prefix or salt)");
    }
  }
  return std::unique_ptr<BasicAuth>(new BasicAuth(std::move(users)));
}

bool BasicAuth::Check(std::string_view authorization) {
  std::string user, password;
  if (!ParseBasicAuthorization(authorization, &user, &password)) return false;
  const bool ok = CheckCredentials(user, password);
  OPENSSL_cleanse(password.data(), password.size());
  return ok;
}

bool BasicAuth::CheckCredentials(std::string_view user, std::string_view password) {
  const auto it = users_.find(std::string(user));
  const bool known = it != users_.end();
  const std::string& hash = known ? it->second : std::string(kDummyHash);
  std::vector<unsigned char> material;
  AppendField(user, &material);
  AppendField(hash, &material);
  AppendField(password, &material);
  Digest key{};
  unsigned int key_size = 0;
  const bool hashed = EVP_Digest(material.data(), material.size(), key.data(), &key_size,
                                 EVP_sha256(), nullptr) == 1 &&
                      key_size == key.size();
  OPENSSL_cleanse(material.data(), material.size());
  if (hashed) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (const auto c = cache_.find(key); c != cache_.end()) return c->second && known;
  }
  bool match;
  {
    std::lock_guard<std::mutex> lock(bcrypt_mu_);
    match = BcryptMatches(password, hash);
    ++bcrypt_runs_;
  }
  const bool ok = match && known;
  if (hashed) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    // Full: drop one entry (the smallest digest: effectively random).
    if (cache_.size() >= kCacheSize) cache_.erase(cache_.begin());
    cache_[key] = ok;
  }
  return ok;
}

int BasicAuth::bcrypt_runs() const { return bcrypt_runs_.load(); }

bool ParseBasicAuthorization(std::string_view header, std::string* user, std::string* password) {
  // The scheme is case-insensitive (RFC 7617); one space, as Go requires.
  if (header.size() < 6) return false;
  static constexpr std::string_view kScheme = "basic ";
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != kScheme[i]) return false;
  }
  const std::string_view b64 = header.substr(kScheme.size());
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > 8192) return false;
  std::string decoded(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  if (n < 0) return false;
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t size = static_cast<size_t>(n);
  if (b64.back() == '=') --size;
  if (b64.size() >= 2 && b64[b64.size() - 2] == '=') --size;
  decoded.resize(size);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return false;
  }
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  OPENSSL_cleanse(decoded.data(), decoded.size());
  return true;
}

}  // namespace gvisor_exporter
