#include "exporter/sources/trace/trace_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "exporter/sources/trace/test_util.h"
#include "exporter/testing/fixtures.h"
#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter {
namespace {

using testing::RawSyscall;
using testing::ReadFixture;

bool WaitFor(const std::function<bool()>& cond) {
  for (int i = 0; i < 500; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

uint64_t Calls(const TraceSink& sink, const std::string& sys) {
  uint64_t n = 0;
  for (const auto& c : sink.Containers()) {
    for (const auto& [name, v] : c.calls) n += name == sys ? v : 0;
  }
  return n;
}

struct Pair {
  UniqueFd ours, theirs;
  Pair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    ours.reset(sv[0]);
    theirs.reset(sv[1]);
    fcntl(ours.get(), F_SETFL, O_NONBLOCK);
  }
};

void Send(int fd, const std::string& packet) {
  ASSERT_EQ(send(fd, packet.data(), packet.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(packet.size()));
}

TEST(TraceReader, CountsRealPacketsFromASocketpair) {
  TraceReader reader({});
  ASSERT_TRUE(reader.Start().ok());
  Pair p;
  auto sink = reader.AddSink(std::move(p.ours));
  for (int i = 0; i < 3; ++i)
    Send(p.theirs.get(), ReadFixture("exporter/sources/trace/testdata/raw_getppid_enter.bin"));
  Send(p.theirs.get(),
       ReadFixture("exporter/sources/trace/testdata/raw_fanotify_init_exit_enosys.bin"));
  Send(p.theirs.get(), ReadFixture("exporter/sources/trace/testdata/task_exit.bin"));
  Send(p.theirs.get(), "short");
  ASSERT_TRUE(WaitFor([&] { return reader.packet_counts().malformed == 1; }));
  EXPECT_EQ(Calls(*sink, "getppid"), 3u);
  auto counts = reader.packet_counts();
  EXPECT_EQ(counts.syscall, 4u);
  EXPECT_EQ(counts.ignored, 1u);
  auto cs = sink->Containers();
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].container_id, "capture");
  ASSERT_EQ(cs[0].unimplemented.size(), 1u);
  EXPECT_EQ(cs[0].unimplemented[0].first, "fanotify_init");
  EXPECT_FALSE(sink->closed());
  p.theirs.reset();  // the sentry closes the sink: session deleted or sandbox gone
  EXPECT_TRUE(WaitFor([&] { return sink->closed(); }));
  reader.RemoveSink(sink);
}

TEST(TraceReader, ANewSessionsSinkContinuesTheLastOnesCounts) {
  TraceReader reader({});
  ASSERT_TRUE(reader.Start().ok());
  Pair first;
  auto sink = reader.AddSink(std::move(first.ours));
  for (int i = 0; i < 2; ++i)
    Send(first.theirs.get(), ReadFixture("exporter/sources/trace/testdata/raw_getppid_enter.bin"));
  first.theirs.reset();  // sampling: the window's session was deleted
  ASSERT_TRUE(WaitFor([&] { return sink->closed(); }));
  EXPECT_EQ(Calls(*sink, "getppid"), 2u);

  Pair second;
  auto next = reader.AddSink(std::move(second.ours), sink.get());
  reader.RemoveSink(sink);
  Send(second.theirs.get(), ReadFixture("exporter/sources/trace/testdata/raw_getppid_enter.bin"));
  ASSERT_TRUE(WaitFor([&] { return Calls(*next, "getppid") == 3u; }));
  EXPECT_FALSE(next->closed());
  // A fresh sink starts from zero.
  Pair other;
  auto fresh = reader.AddSink(std::move(other.ours));
  EXPECT_EQ(Calls(*fresh, "getppid"), 0u);
  reader.RemoveSink(next);
  reader.RemoveSink(fresh);
}

TEST(TraceReader, OversizedPacketIsCountedTruncated) {
  TraceReader reader({});
  ASSERT_TRUE(reader.Start().ok());
  Pair p;
  auto sink = reader.AddSink(std::move(p.ours));
  Send(p.theirs.get(), RawSyscall(1, std::string(20000, 'x')));
  Send(p.theirs.get(), RawSyscall(1, "ok"));
  ASSERT_TRUE(WaitFor([&] { return reader.packet_counts().syscall == 1; }));
  EXPECT_EQ(reader.packet_counts().truncated, 1u);
  EXPECT_EQ(Calls(*sink, "write"), 1u);
}

TEST(TraceReader, AWriterIsNeverBlockedByAStoppedReader) {
  // The sentry's end is non-blocking: with nobody reading, sends fail with
  // EAGAIN (the sentry drops and counts) instead of waiting.
  Pair p;
  fcntl(p.theirs.get(), F_SETFL, O_NONBLOCK);
  const std::string packet = ReadFixture("exporter/sources/trace/testdata/raw_getppid_enter.bin");
  int sent = 0, eagain = 0;
  for (int i = 0; i < 100000 && eagain == 0; ++i) {
    if (send(p.theirs.get(), packet.data(), packet.size(), MSG_NOSIGNAL) > 0) {
      ++sent;
    } else if (errno == EAGAIN) {
      ++eagain;
    }
  }
  EXPECT_GT(sent, 0);
  EXPECT_EQ(eagain, 1);
  // A reader started now catches up with what was queued.
  TraceReader reader({});
  ASSERT_TRUE(reader.Start().ok());
  auto sink = reader.AddSink(std::move(p.ours));
  EXPECT_TRUE(WaitFor([&] { return Calls(*sink, "getppid") == static_cast<uint64_t>(sent); }));
}

int ConnectSeqpacket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TraceReader::Options ListenAt(const testing::TempDir& dir) {
  TraceReader::Options o;
  o.listen_path = dir.path() + "/sink.sock";
  return o;
}

// Connects as runsc's sink setup does, with a receive timeout for the reply.
UniqueFd ConnectAsRunsc(const std::string& path) {
  UniqueFd conn(ConnectSeqpacket(path));
  timeval tv{5, 0};
  if (conn.valid()) setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return conn;
}

TEST(TraceReader, ListenModeHandshakeThenEvents) {
  testing::TempDir dir;
  TraceReader reader(ListenAt(dir));
  ASSERT_TRUE(reader.Start().ok());
  // As runsc's setup does: send our handshake, read the consumer's.
  UniqueFd conn = ConnectAsRunsc(reader.options().listen_path);
  ASSERT_TRUE(conn.valid());
  Send(conn.get(), ReadFixture("exporter/sources/trace/testdata/handshake.bin"));
  char buf[64];
  ASSERT_EQ(recv(conn.get(), buf, sizeof(buf), 0), 2);
  EXPECT_EQ(std::string(buf, 2), std::string("\x08\x01", 2));
  Send(conn.get(), ReadFixture("exporter/sources/trace/testdata/raw_getppid_enter.bin"));
  ASSERT_TRUE(WaitFor([&] { return reader.packet_counts().syscall == 1; }));
  auto sinks = reader.ListenSinks();
  ASSERT_EQ(sinks.size(), 1u);
  EXPECT_EQ(sinks[0]->container_ids(), std::vector<std::string>{"capture"});
  EXPECT_EQ(reader.packet_counts().handshake, 1u);
  conn.reset();
  EXPECT_TRUE(WaitFor([&] { return sinks[0]->closed(); }));
}

TEST(TraceReader, ListenModeRejectsAGarbledHandshake) {
  testing::TempDir dir;
  TraceReader reader(ListenAt(dir));
  ASSERT_TRUE(reader.Start().ok());
  UniqueFd conn = ConnectAsRunsc(reader.options().listen_path);
  ASSERT_TRUE(conn.valid());
  Send(conn.get(), "\xff\xff\xff");
  char buf[8];
  EXPECT_EQ(recv(conn.get(), buf, sizeof(buf), 0), 0);  // closed on us
  EXPECT_EQ(reader.packet_counts().malformed, 1u);
}

TEST(TraceReader, ListenPathMustNotBeAFile) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/not-a-socket";
  dir.Write("not-a-socket", "precious");
  TraceReader::Options o;
  o.listen_path = path;
  TraceReader reader(o);
  EXPECT_EQ(reader.Start().reason(), Reason::kInvalid);
  EXPECT_EQ(access(path.c_str(), F_OK), 0);  // not removed
}

}  // namespace
}  // namespace gvisor_exporter
