// Test helpers of the trace module: packet builders. Real packets captured
// from runsc 20221219 (tools/capture_trace_packets.py) are fixtures in
// testdata/, read with exporter/testing/fixtures.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/gvisor_trace.pb.h"

namespace gvisor_exporter::testing {

inline std::string Header(uint16_t type, uint32_t dropped, uint16_t header_size = 8) {
  std::string h(header_size, '\0');
  h[0] = static_cast<char>(header_size & 0xff);
  h[1] = static_cast<char>(header_size >> 8);
  h[2] = static_cast<char>(type & 0xff);
  h[3] = static_cast<char>(type >> 8);
  for (int i = 0; i < 4; ++i) h[4 + i] = static_cast<char>((dropped >> (8 * i)) & 0xff);
  return h;
}

// A raw syscall packet as the sentry builds it.
inline std::string RawSyscall(uint64_t sysno, std::string_view container, bool exit = false,
                              int64_t errorno = 0, uint32_t dropped = 0) {
  trace::Syscall s;
  s.set_sysno(sysno);
  if (!container.empty()) s.mutable_context_data()->set_container_id(std::string(container));
  if (exit) s.mutable_exit()->set_errorno(errorno);
  return Header(6, dropped) + s.SerializeAsString();
}

}  // namespace gvisor_exporter::testing
