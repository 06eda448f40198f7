// Makes Debian 12's civetweb TLS work with OpenSSL 3: loads our "libssl.so"
// and "libcrypto.so" compatibility libraries (civetweb_tls/*.c explains why)
// before civetweb dlopen()s those names.
#pragma once

#include "exporter/common/status.h"

namespace gvisor_exporter {

// Idempotent. Looks for libgve-civetweb-libssl.so / -libcrypto.so next to the
// executable, then in <exe dir>/../lib/gvisor-exporter; fails with a clear
// message when they are missing or civetweb would still miss a function.
Status PrepareCivetwebTls();

}  // namespace gvisor_exporter
