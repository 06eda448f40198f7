/* The "libssl.so" that Debian 12's civetweb dlopen()s for TLS.
 *
 * Debian's civetweb 1.15 is built for the OpenSSL 1.1 API and loads OpenSSL
 * at run time by name: dlopen("libssl.so") + dlsym of each function. OpenSSL 3
 * no longer exports SSL_get_peer_certificate (a macro for
 * SSL_get1_peer_certificate now), so civetweb's pointer is NULL and it calls
 * it on every TLS connection: a segfault at the first request. This library
 * has the SONAME "libssl.so", needs the real libssl.so.3 and defines the one
 * missing function; the exporter dlopen()s it by path before civetweb starts,
 * and glibc then answers civetweb's dlopen("libssl.so") with it (a loaded
 * object matches by SONAME), whose dlsym finds everything else in libssl.so.3.
 * It also spares the image libssl-dev, which owns the unversioned name. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509* SSL_get_peer_certificate(const SSL* ssl);
X509* SSL_get_peer_certificate(const SSL* ssl) { return SSL_get1_peer_certificate(ssl); }
