#include "exporter/sources/kube/kube_client.h"

#include <curl/curl.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "exporter/common/file_util.h"

namespace gvisor_exporter {

namespace {

constexpr size_t kMaxTokenBytes = 16 << 10;  // JWTs are ~1 KiB

// curl_global_init is not thread-safe; done once, before the first handle.
void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Body {
  std::string data;
  size_t max = 0;
  bool too_large = false;
};

size_t Write(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* body = static_cast<Body*>(userdata);
  const size_t n = size * nmemb;
  if (body->data.size() + n > body->max) {
    body->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  body->data.append(ptr, n);
  return n;
}

bool HostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == ':' || c == '[' || c == ']';
}

Status CurlError(CURLcode code, const char* detail, const std::string& url) {
  std::string msg = "GET " + url + ": " + curl_easy_strerror(code);
  if (detail[0] != '\0') msg += std::string(" (") + detail + ")";
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return TimeoutError(msg);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
      return UnavailableError(msg);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      // The server is not the one the CA vouches for (or the CA is unusable).
      return PermissionError(msg);
    default:
      return IoError(msg);
  }
}

Status HttpError(long code, const std::string& url) {
  const std::string msg = "GET " + url + ": HTTP " + std::to_string(code);
  if (code == 401 || code == 403) return PermissionError(msg);
  if (code == 404) return NotFoundError(msg);
  if (code >= 300 && code < 400) return RemoteError(msg + " (redirects are not followed)");
  return RemoteError(msg);
}

}  // namespace

StatusOr<std::string> ResolveApiServer(const std::string& flag) {
  std::string hostport;
  if (flag == "in-cluster") {
    const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
    const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host || !port || !*port) {
      return NotFoundError(
          "--kubernetes.api=in-cluster: KUBERNETES_SERVICE_HOST/PORT not set (not in a pod?)");
    }
    const std::string h(host);
    hostport = (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  } else if (flag.rfind("https://", 0) == 0) {
    hostport = flag.substr(8);
    if (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
  } else {
    return InvalidError("--kubernetes.api: want off, in-cluster or https://host[:port], got " +
                        flag.substr(0, 80));
  }
  if (hostport.empty() || hostport.size() > 300) {
    return InvalidError("--kubernetes.api: bad host in " + flag.substr(0, 80));
  }
  for (char c : hostport) {
    if (!HostChar(c)) return InvalidError("--kubernetes.api: bad host in " + flag.substr(0, 80));
  }
  return "https://" + hostport;
}

StatusOr<std::string> ReadBearerToken(const std::string& path) {
  // Followed symlinks: projected tokens are ..data/token symlinks.
  auto raw = ReadFileBounded(path, kMaxTokenBytes);
  if (!raw.ok()) return raw.status().WithContext("token file");
  std::string token = std::move(raw).value();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.empty()) return InvalidError("token file " + path + " is empty");
  for (unsigned char c : token) {
    if (c < 0x21 || c > 0x7e) return InvalidError("token file " + path + ": non-printable byte");
  }
  return token;
}

KubeClient::KubeClient(KubeClientOptions options) : options_(std::move(options)) { GlobalInit(); }

StatusOr<std::string> KubeClient::Get(const std::string& path) {
  const std::string url = options_.server + path;
  std::string auth;
  if (!options_.token_file.empty()) {
    auto token = ReadBearerToken(options_.token_file);
    if (!token.ok()) return token.status();
    auth = "Authorization: Bearer " + *token;
  }
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return InternalError("curl_easy_init failed");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, curl_slist_free_all);
  for (const std::string& h : {std::string("Accept: application/json"), auth}) {
    if (h.empty()) continue;
    curl_slist* next = curl_slist_append(headers.get(), h.c_str());
    if (!next) return InternalError("curl_slist_append failed");
    (void)headers.release();  // `next` heads the same list, one longer: it takes over
    headers.reset(next);
  }
  Body body;
  body.max = options_.max_response_bytes;
  char error[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) {
    // Only the cluster CA: not the system store besides it.
    curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");  // the API server is reached directly
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(c);
  if (body.too_large) {
    return TooLargeError("GET " + url + ": response larger than " +
                         std::to_string(options_.max_response_bytes) + " bytes");
  }
  if (rc != CURLE_OK) return CurlError(rc, error, url);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) return HttpError(code, url);
  return std::move(body.data);
}

}  // namespace gvisor_exporter
