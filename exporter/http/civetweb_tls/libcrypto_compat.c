/* The "libcrypto.so" that Debian 12's civetweb dlopen()s (see
 * libssl_compat.c): no code, SONAME "libcrypto.so", needs libcrypto.so.3, so
 * civetweb's dlsym finds libcrypto.so.3's functions without libssl-dev. */
int gve_civetweb_libcrypto_compat;
