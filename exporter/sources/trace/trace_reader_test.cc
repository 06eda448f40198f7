#include "exporter/sources/trace/trace_reader.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>
#include <vector>

#include "exporter/common/log_capture.h"
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

// The kernel's view of the reader thread (found by its name): policy
// (0 normal, 1 SCHED_FIFO), realtime priority and nice, from
// /proc/self/task/<tid>/stat fields 41, 40 and 19.
struct ThreadSched {
  int policy = -1, rt_priority = -1, nice = 99;
};
ThreadSched ReaderThreadSched() {
  ThreadSched out;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return out;
  while (dirent* e = readdir(dir)) {
    const std::string task = std::string("/proc/self/task/") + e->d_name;
    std::ifstream comm(task + "/comm");
    std::string name;
    if (!std::getline(comm, name) || name != "gve-trace-read") continue;
    std::ifstream stat_file(task + "/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(rest), {}};
    // f[0] is field 3 (state).
    if (f.size() > 38) {
      out.nice = std::stoi(f[16]);
      out.rt_priority = std::stoi(f[37]);
      out.policy = std::stoi(f[38]);
    }
  }
  closedir(dir);
  return out;
}

// Whatever it was allowed, the reader reports what the kernel says it got.
void ExpectSchedulingMatchesTheKernel(const TraceReader& reader, int asked_priority) {
  ASSERT_TRUE(WaitFor([&] { return reader.scheduling() != TraceReader::Scheduling::kStarting; }));
  const ThreadSched k = ReaderThreadSched();
  switch (reader.scheduling()) {
    case TraceReader::Scheduling::kRealtime:
      EXPECT_EQ(k.policy, SCHED_FIFO);
      EXPECT_EQ(k.rt_priority, asked_priority);
      break;
    case TraceReader::Scheduling::kNice:
      EXPECT_EQ(k.policy, SCHED_OTHER);
      EXPECT_EQ(k.nice, -10);
      break;
    default:
      EXPECT_EQ(k.policy, SCHED_OTHER);
      EXPECT_EQ(k.nice, 0);
  }
}

// Whether a new thread of this process may become SCHED_FIFO: it needs
// CAP_SYS_NICE and, with RT group scheduling (cgroup v1), a cgroup granted
// cpu.rt_runtime_us.
bool RealtimeAllowedHere() {
  bool allowed = false;
  std::thread([&] {
    sched_param param{};
    param.sched_priority = 1;
    allowed = sched_setscheduler(0, SCHED_FIFO, &param) == 0;
  }).join();
  return allowed;
}

TEST(TraceReader, AsksForRealtimeAndReportsWhatTheThreadGot) {
  TraceReader::Options o;
  o.realtime_priority = 3;
  TraceReader reader(o);
  ASSERT_TRUE(reader.Start().ok());
  ExpectSchedulingMatchesTheKernel(reader, 3);
  if (RealtimeAllowedHere()) {
    EXPECT_EQ(reader.scheduling(), TraceReader::Scheduling::kRealtime);
  }
}

TEST(TraceReader, PriorityZeroStaysInTheNormalClass) {
  TraceReader::Options o;
  o.realtime_priority = 0;
  TraceReader reader(o);
  ASSERT_TRUE(reader.Start().ok());
  ExpectSchedulingMatchesTheKernel(reader, 0);
  EXPECT_NE(reader.scheduling(), TraceReader::Scheduling::kRealtime);
}

// Capabilities are per thread and a new thread inherits its creator's: a
// reader started from a thread without CAP_SYS_NICE is refused both raises,
// says so once, and still reads, at once: it ignores its pause (a normal-class
// reader that pauses may wait far longer for a core, and the sentries drop).
TEST(TraceReader, WithoutCapSysNiceFallsBackLogsOnceAndReadsWithoutPausing) {
  LogCapture log({}, {}, spdlog::level::warn, 16);
  std::unique_ptr<TraceReader> reader;
  std::thread([&] {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    ASSERT_EQ(syscall(SYS_capget, &header, data), 0);
    data[CAP_SYS_NICE / 32].effective &= ~(1u << (CAP_SYS_NICE % 32));
    ASSERT_EQ(syscall(SYS_capset, &header, data), 0);
    TraceReader::Options o;
    o.coalesce = std::chrono::seconds(10);
    reader = std::make_unique<TraceReader>(o);
    ASSERT_TRUE(reader->Start().ok());
  }).join();
  ASSERT_NE(reader, nullptr);
  ExpectSchedulingMatchesTheKernel(*reader, 1);
  EXPECT_EQ(reader->scheduling(), TraceReader::Scheduling::kNormal);
  std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("without realtime priority"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("SCHED_FIFO"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("ignores --syscalls.reader-pause"), std::string::npos) << lines[0];
  Pair p;
  auto sink = reader->AddSink(std::move(p.ours));
  const std::string packet = ReadFixture("exporter/sources/trace/testdata/raw_getppid_enter.bin");
  Send(p.theirs.get(), packet);
  ASSERT_TRUE(WaitFor([&] { return Calls(*sink, "getppid") == 1; }));
  // Had it paused 10 s after reading the first packet, the second would wait.
  Send(p.theirs.get(), packet);
  const auto sent = std::chrono::steady_clock::now();
  while (Calls(*sink, "getppid") < 2 &&
         std::chrono::steady_clock::now() - sent < std::chrono::seconds(3)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Calls(*sink, "getppid"), 2u);
  reader->RemoveSink(sink);
}

}  // namespace
}  // namespace gvisor_exporter
