#include "exporter/sources/trace/trace_wire.h"

#include <gtest/gtest.h>

#include "exporter/sources/trace/test_util.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using testing::Header;
using testing::RawSyscall;
using testing::ReadFixture;

TEST(TraceWire, DecodesRealRawEnterPacket) {
  TraceDecoder d;
  auto ev = d.Decode(ReadFixture("exporter/sources/trace/testdata/raw_getppid_enter.bin"));
  ASSERT_TRUE(ev.ok()) << ev.status().message();
  EXPECT_EQ(ev->kind, TraceEvent::Kind::kSyscallEnter);
  EXPECT_EQ(ev->sysno, 110u);  // getppid
  EXPECT_EQ(ev->container_id, "capture");
  EXPECT_EQ(ev->dropped_count, 0u);
}

TEST(TraceWire, DecodesRealExitWithEnosys) {
  TraceDecoder d;
  auto ev =
      d.Decode(ReadFixture("exporter/sources/trace/testdata/raw_fanotify_init_exit_enosys.bin"));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->kind, TraceEvent::Kind::kSyscallExit);
  EXPECT_EQ(ev->sysno, 300u);  // fanotify_init
  EXPECT_EQ(ev->errorno, 38);  // ENOSYS
  // Exit events carry the context configured on the enter point.
  EXPECT_EQ(ev->container_id, "capture");
}

TEST(TraceWire, SysnoZeroIsAbsentOnTheWire) {
  TraceDecoder d;
  auto ev = d.Decode(ReadFixture("exporter/sources/trace/testdata/raw_read_enter.bin"));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->kind, TraceEvent::Kind::kSyscallEnter);
  EXPECT_EQ(ev->sysno, 0u);  // read
  auto exit = d.Decode(ReadFixture("exporter/sources/trace/testdata/raw_read_exit.bin"));
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->kind, TraceEvent::Kind::kSyscallExit);
  EXPECT_EQ(exit->errorno, 0);
  EXPECT_EQ(exit->result, 4096);  // busybox head reads a whole block
}

TEST(TraceWire, OtherRealTypes) {
  TraceDecoder d;
  auto start = d.Decode(ReadFixture("exporter/sources/trace/testdata/container_start.bin"));
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->kind, TraceEvent::Kind::kContainerStart);
  EXPECT_EQ(start->container_id, "capture2");
  auto exit = d.Decode(ReadFixture("exporter/sources/trace/testdata/task_exit.bin"));
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(exit->kind, TraceEvent::Kind::kOther);
  EXPECT_EQ(exit->message_type, 5);
  auto open = d.Decode(ReadFixture("exporter/sources/trace/testdata/typed_open.bin"));
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->kind, TraceEvent::Kind::kOther);
}

TEST(TraceWire, HeaderChecks) {
  TraceDecoder d;
  EXPECT_EQ(d.Decode("").status().reason(), Reason::kParse);
  EXPECT_EQ(d.Decode(std::string(7, '\0')).status().reason(), Reason::kParse);
  // header_size below 8 and beyond the packet.
  EXPECT_FALSE(d.Decode(Header(6, 0, 8).replace(0, 1, "\x04")).ok());
  std::string big = Header(6, 0);
  big[0] = 64;
  EXPECT_FALSE(d.Decode(big).ok());
}

TEST(TraceWire, HonoursALongerHeader) {
  trace::Syscall s;
  s.set_sysno(39);
  TraceDecoder d;
  auto ev = d.Decode(Header(6, 7, 16) + s.SerializeAsString());
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->sysno, 39u);
  EXPECT_EQ(ev->dropped_count, 7u);
}

TEST(TraceWire, UnknownTypeIsSkippedNotAnError) {
  TraceDecoder d;
  auto ev = d.Decode(Header(999, 0) + "garbage");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->kind, TraceEvent::Kind::kUnknownType);
}

TEST(TraceWire, GarbledPayloadIsAParseError) {
  TraceDecoder d;
  // Field 1 (context) claims 100 bytes, 2 follow.
  EXPECT_EQ(d.Decode(Header(6, 0) + std::string("\x0a\x64\x01\x02", 4)).status().reason(),
            Reason::kParse);
  // The decoder is reusable after an error.
  EXPECT_TRUE(d.Decode(RawSyscall(1, "c")).ok());
}

TEST(TraceWire, Handshake) {
  auto v = ParseHandshake(ReadFixture("exporter/sources/trace/testdata/handshake.bin"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 1u);
  EXPECT_EQ(HandshakeReply(), std::string("\x08\x01", 2));
  EXPECT_FALSE(ParseHandshake("").ok());  // version 0
  EXPECT_FALSE(ParseHandshake("\xff").ok());
}

}  // namespace
}  // namespace gvisor_exporter
