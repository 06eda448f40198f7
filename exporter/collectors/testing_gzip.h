// Test helper: decompresses a gzip body with zlib's own inflate and checks
// that it is exactly one gzip member (what an HTTP client decodes).
#pragma once

#include <zlib.h>

#include <string>

namespace gvisor_exporter {

// Inflates `body` (windowBits 16+15: gzip, header and trailer checked,
// including the CRC-32 and length). Returns false, with the reason in `why`,
// unless the member ends (Z_STREAM_END) exactly at the last byte of `body`.
inline bool GunzipOneMember(const std::string& body, std::string* out, std::string* why) {
  out->clear();
  z_stream zs{};
  if (inflateInit2(&zs, 16 + 15) != Z_OK) {
    *why = "inflateInit2 failed";
    return false;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->append(buf, sizeof(buf) - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the member did
  }
  const uInt left = zs.avail_in;
  const std::string msg = zs.msg ? std::string(": ") + zs.msg : "";
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    *why = "inflate returned " + std::to_string(rc) + msg;
    return false;
  }
  if (left != 0) {
    *why = std::to_string(left) + " bytes after the end of the first gzip member";
    return false;
  }
  return true;
}

}  // namespace gvisor_exporter
