#include "exporter/http/civetweb_tls.h"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

namespace gvisor_exporter {

namespace {

std::string ExecutableDir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return ".";
  const std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

// dlopen()s the first of `file` in the candidate directories (kept loaded for
// the process's life: civetweb holds it too).
Status LoadCompat(const std::string& file) {
  const std::string dir = ExecutableDir();
  std::string tried;
  for (const std::string& path : {dir + "/" + file, dir + "/../lib/gvisor-exporter/" + file}) {
    if (access(path.c_str(), R_OK) != 0) {
      tried += (tried.empty() ? "" : ", ") + path;
      continue;
    }
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
      const char* err = dlerror();
      return UnavailableError("TLS: cannot load " + path + ": " + (err ? err : "?"));
    }
    return Status::Ok();
  }
  return NotFoundError("TLS needs " + file + " (built with the exporter); not found in " + tried);
}

}  // namespace

Status PrepareCivetwebTls() {
  static std::mutex mu;
  static bool done = false;
  std::lock_guard<std::mutex> lock(mu);
  if (done) return Status::Ok();
  GVE_RETURN_IF_ERROR(LoadCompat("libgve-civetweb-libssl.so"));
  GVE_RETURN_IF_ERROR(LoadCompat("libgve-civetweb-libcrypto.so"));
  // What civetweb will get: must be our library, with the function it lacks.
  void* ssl = dlopen("libssl.so", RTLD_LAZY | RTLD_NOLOAD);
  if (ssl == nullptr || dlsym(ssl, "SSL_get_peer_certificate") == nullptr ||
      dlsym(ssl, "SSL_CTX_new") == nullptr) {
    return InternalError(
        "TLS: dlopen(\"libssl.so\") does not resolve to the compatibility library; civetweb "
        "would crash on the first TLS connection");
  }
  done = true;
  return Status::Ok();
}

}  // namespace gvisor_exporter
