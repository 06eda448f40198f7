// Decoding of gVisor remote-sink packets (runtime monitoring).
//
// Every packet comes from a sandbox and is untrusted. One packet is one event:
//   [ header_size u16 | message_type u16 | dropped_count u32 ] payload...
// little endian; the payload (a protobuf message chosen by message_type)
// starts at header_size, which is 8 today but honoured so that a longer
// header from a newer runsc still decodes. dropped_count is the sink's
// cumulative count of events it could not send, wrapping at 2^32.
//
// The decoder reuses its protobuf messages between packets, so steady-state
// decoding allocates nothing; its input is one packet already bounded by the
// reader's buffer (kMaxPacketBytes), so no size in a packet can make it
// allocate more than that.
#pragma once

#include <cstdint>
#include <string_view>

#include "exporter/common/status.h"
#include "proto/gvisor_trace.pb.h"

namespace gvisor_exporter {

inline constexpr size_t kTraceHeaderBytes = 8;
// Largest packet the reader accepts (its buffer per packet); raw syscall
// events are < 200 bytes, larger packets are counted as truncated.
inline constexpr size_t kMaxPacketBytes = size_t{8} * 1024;

// message_type values of the wire header (gVisor's MessageType enum).
enum class TraceMessageType : uint16_t {
  kContainerStart = 1,
  kSentryClone = 2,
  kSentryExec = 3,
  kSentryExitNotifyParent = 4,
  kSentryTaskExit = 5,
  kSyscallRaw = 6,
  // 7..34: typed syscall messages (open, close, read, ...); 35..38 in newer runsc.
  kLastKnown = 38,
};

struct TraceHeader {
  uint16_t header_size = 0;
  uint16_t message_type = 0;
  uint32_t dropped_count = 0;
};

// Parses and checks the header: packet >= 8 bytes, 8 <= header_size <= size.
StatusOr<TraceHeader> ParseTraceHeader(std::string_view packet);

// What one packet said.
struct TraceEvent {
  enum class Kind {
    kSyscallEnter,    // raw syscall/sysno/N/enter
    kSyscallExit,     // raw syscall/sysno/N/exit (carries result and errno)
    kContainerStart,  // container/start (container_id = the started container)
    kOther,           // a known type we do not aggregate (typed syscalls, sentry/*)
    kUnknownType,     // a message_type this build does not know
  };
  Kind kind = Kind::kOther;
  uint32_t dropped_count = 0;
  uint16_t message_type = 0;
  uint64_t sysno = 0;   // proto3: absent on the wire means 0 (read)
  int64_t result = 0;   // exit only
  int64_t errorno = 0;  // exit only; 0 = success
  // From the context data ("" when the point was configured without it).
  // Valid until the next Decode() on the same decoder.
  std::string_view container_id;
};

class TraceDecoder {
 public:
  // Decodes one packet. Errors (kParse): short packet, bad header_size,
  // payload that is not the protobuf its type says.
  StatusOr<TraceEvent> Decode(std::string_view packet);

 private:
  trace::Syscall syscall_;
  trace::ContainerStart start_;
};

// Listen mode: the handshake packet runsc sends first (no header) and our
// reply. Returns the peer's protocol version.
StatusOr<uint32_t> ParseHandshake(std::string_view packet);
std::string HandshakeReply();

}  // namespace gvisor_exporter
