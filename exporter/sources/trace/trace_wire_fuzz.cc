// Fuzzes the trace packet path as the reader runs it: header + protobuf
// decoding, then aggregation, then rendering the counts to model values; and
// the listen-mode handshake. Seeded with real packets captured from runsc.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/sources/trace/syscall_aggregator.h"
#include "exporter/sources/trace/trace_wire.h"

using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static TraceDecoder decoder;  // reused across inputs, as in the reader
  SyscallLimits limits;
  limits.max_syscalls = 4;
  limits.max_errors = 4;
  limits.max_containers = 4;
  SyscallAggregator agg(Arch::kX86_64, limits);
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ParseHandshake(in);
  // The input is a sequence of packets, each prefixed by a 1-byte length.
  while (!in.empty()) {
    const size_t n = std::min<size_t>(static_cast<uint8_t>(in[0]), in.size() - 1);
    auto ev = decoder.Decode(in.substr(1, n));
    if (ev.ok()) agg.Add(*ev);
    in.remove_prefix(1 + n);
  }
  auto whole = decoder.Decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (whole.ok()) agg.Add(*whole);
  (void)agg.Containers();
  (void)agg.dropped();
  return 0;
}
