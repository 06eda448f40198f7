#include "exporter/sources/trace/trace_wire.h"

#include <cstring>
#include <string>

namespace gvisor_exporter {

namespace {

uint16_t LoadLe16(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}

uint32_t LoadLe32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
         (static_cast<uint32_t>(b[2]) << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

}  // namespace

StatusOr<TraceHeader> ParseTraceHeader(std::string_view packet) {
  if (packet.size() < kTraceHeaderBytes) {
    return Status(Reason::kParse, "trace packet of " + std::to_string(packet.size()) +
                                      " bytes is shorter than its header");
  }
  TraceHeader h;
  h.header_size = LoadLe16(packet.data());
  h.message_type = LoadLe16(packet.data() + 2);
  h.dropped_count = LoadLe32(packet.data() + 4);
  if (h.header_size < kTraceHeaderBytes || h.header_size > packet.size()) {
    return Status(Reason::kParse, "trace header_size " + std::to_string(h.header_size) +
                                      " outside [8, " + std::to_string(packet.size()) + "]");
  }
  return h;
}

StatusOr<TraceEvent> TraceDecoder::Decode(std::string_view packet) {
  auto header = ParseTraceHeader(packet);
  if (!header.ok()) return header.status();
  const std::string_view payload = packet.substr(header->header_size);
  TraceEvent ev;
  ev.dropped_count = header->dropped_count;
  ev.message_type = header->message_type;
  switch (static_cast<TraceMessageType>(header->message_type)) {
    case TraceMessageType::kSyscallRaw: {
      syscall_.Clear();
      if (!syscall_.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return Status(Reason::kParse, "raw syscall payload is not a Syscall message");
      }
      ev.sysno = syscall_.sysno();
      if (syscall_.has_exit()) {
        ev.kind = TraceEvent::Kind::kSyscallExit;
        ev.result = syscall_.exit().result();
        ev.errorno = syscall_.exit().errorno();
      } else {
        ev.kind = TraceEvent::Kind::kSyscallEnter;
      }
      if (syscall_.has_context_data()) ev.container_id = syscall_.context_data().container_id();
      return ev;
    }
    case TraceMessageType::kContainerStart: {
      start_.Clear();
      if (!start_.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
        return Status(Reason::kParse, "container start payload is not a Start message");
      }
      ev.kind = TraceEvent::Kind::kContainerStart;
      ev.container_id = start_.id();
      return ev;
    }
    default:
      ev.kind = (header->message_type >= 1 &&
                 header->message_type <= static_cast<uint16_t>(TraceMessageType::kLastKnown))
                    ? TraceEvent::Kind::kOther
                    : TraceEvent::Kind::kUnknownType;
      return ev;
  }
}

StatusOr<uint32_t> ParseHandshake(std::string_view packet) {
  trace::Handshake hs;
  if (packet.size() > 1024 || !hs.ParseFromArray(packet.data(), static_cast<int>(packet.size()))) {
    return Status(Reason::kParse, "handshake is not a Handshake message");
  }
  if (hs.version() < 1) return Status(Reason::kInvalid, "handshake version 0");
  return hs.version();
}

std::string HandshakeReply() {
  trace::Handshake hs;
  hs.set_version(1);
  return hs.SerializeAsString();
}

}  // namespace gvisor_exporter
