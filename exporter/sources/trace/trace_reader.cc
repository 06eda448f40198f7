#include "exporter/sources/trace/trace_reader.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "exporter/common/log.h"

namespace gvisor_exporter {

namespace {

constexpr uint64_t kWakeId = 0;
constexpr uint64_t kListenId = ~uint64_t{0};
constexpr size_t kBatch = 32;  // packets per recvmmsg
constexpr size_t kPacketBuffer = kMaxPacketBytes;
constexpr int kMaxBatchesPerWakeup = 64;   // then let other sinks have a turn
constexpr size_t kDeepQueue = 4 * kBatch;  // no coalescing pause after reading this many

// Raises the calling thread's scheduling as far as it is allowed to
// (TraceReader::Options::realtime_priority), saying once why not.
TraceReader::Scheduling RaiseThreadPriority(int realtime_priority, bool pausing) {
  std::string refused;
  if (realtime_priority > 0) {
    sched_param param{};
    param.sched_priority = realtime_priority;
    // pid 0 is this thread; RESET_ON_FORK keeps realtime out of any child.
    if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0) {
      return TraceReader::Scheduling::kRealtime;
    }
    refused = std::string("SCHED_FIFO: ") + std::strerror(errno);
  }
  TraceReader::Scheduling got = TraceReader::Scheduling::kNice;
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -10) != 0) {
    refused += std::string(refused.empty() ? "" : "; ") + "nice -10: " + std::strerror(errno);
    got = TraceReader::Scheduling::kNormal;
  }
  if (realtime_priority > 0 || got == TraceReader::Scheduling::kNormal) {
    LogWarn(
        std::string("trace reader thread runs without realtime priority: on a busy node sandboxes "
                    "may drop syscall events") +
            (pausing ? ", and it ignores --syscalls.reader-pause, so each traced syscall costs the "
                       "sandbox more"
                     : "") +
            " (grant CAP_SYS_NICE; on cgroup v1 with RT group scheduling the exporter's cgroup "
            "needs cpu.rt_runtime_us)",
        {{"refused", refused}});
  }
  return got;
}

}  // namespace

const char* SchedulingName(TraceReader::Scheduling scheduling) {
  switch (scheduling) {
    case TraceReader::Scheduling::kRealtime:
      return "realtime";
    case TraceReader::Scheduling::kNice:
      return "nice";
    case TraceReader::Scheduling::kNormal:
      return "normal";
    case TraceReader::Scheduling::kStarting:
      break;
  }
  return "";
}

TraceSink::TraceSink(UniqueFd fd, bool listen, Arch arch, SyscallLimits limits)
    : fd_(std::move(fd)), listen_(listen), stats_(std::make_shared<Stats>(arch, limits)) {}

TraceSink::TraceSink(UniqueFd fd, const TraceSink& previous)
    : fd_(std::move(fd)), listen_(previous.listen_), stats_(previous.stats_) {
  std::lock_guard<std::mutex> lock(stats_->mu);
  stats_->agg.BeginSession();
}

uint64_t TraceSink::dropped() const {
  std::lock_guard<std::mutex> lock(stats_->mu);
  return stats_->agg.dropped();
}

void TraceSink::ObserveSessionDrops(uint64_t total) {
  std::lock_guard<std::mutex> lock(stats_->mu);
  stats_->agg.ObserveSessionDrops(total);
}

void TraceSink::RetainContainers(const std::set<std::string>& live_ids) {
  std::lock_guard<std::mutex> lock(stats_->mu);
  stats_->agg.RetainContainers(live_ids);
}

std::vector<std::string> TraceSink::container_ids() const {
  std::lock_guard<std::mutex> lock(stats_->mu);
  return stats_->agg.container_ids();
}

std::vector<ContainerSyscalls> TraceSink::Containers() const {
  std::lock_guard<std::mutex> lock(stats_->mu);
  return stats_->agg.Containers();
}

TraceReader::TraceReader(Options options)
    : options_(std::move(options)), buffers_(kBatch * kPacketBuffer) {}

TraceReader::~TraceReader() { Stop(); }

Status TraceReader::Start() {
  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return ErrnoError(errno, "epoll_create1");
  wake_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_.valid()) return ErrnoError(errno, "eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) != 0) {
    return ErrnoError(errno, "epoll_ctl");
  }
  if (!options_.listen_path.empty()) {
    const std::string& path = options_.listen_path;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof(sa.sun_path)) return InvalidError("listen path too long: " + path);
    std::memcpy(sa.sun_path, path.data(), path.size());
    // A socket left by a previous run is ours to replace; anything else is not.
    struct stat st;
    if (lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return InvalidError(path + " exists and is not a socket");
      unlink(path.c_str());
    }
    listen_.reset(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listen_.valid()) return ErrnoError(errno, "socket");
    if (bind(listen_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
      return ErrnoError(errno, "bind " + path);
    }
    chmod(path.c_str(), 0660);  // runsc connects as root
    if (listen(listen_.get(), 128) != 0) return ErrnoError(errno, "listen " + path);
    ev.data.u64 = kListenId;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listen_.get(), &ev) != 0) {
      return ErrnoError(errno, "epoll_ctl");
    }
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void TraceReader::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  const uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof(one));
  thread_.join();
  if (listen_.valid() && !options_.listen_path.empty()) unlink(options_.listen_path.c_str());
}

void TraceReader::Register(const std::shared_ptr<TraceSink>& sink) {
  std::lock_guard<std::mutex> lock(mu_);
  sink->id_ = next_id_++;
  sinks_[sink->id_] = sink;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = sink->id_;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, sink->fd_.get(), &ev) != 0) {
    sink->closed_ = true;
  }
}

std::shared_ptr<TraceSink> TraceReader::AddSink(UniqueFd fd, const TraceSink* continues) {
  auto sink = continues != nullptr ? std::make_shared<TraceSink>(std::move(fd), *continues)
                                   : std::make_shared<TraceSink>(std::move(fd), false,
                                                                 options_.arch, options_.limits);
  Register(sink);
  return sink;
}

void TraceReader::RemoveSink(const std::shared_ptr<TraceSink>& sink) {
  if (!sink) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (sinks_.erase(sink->id_) && epoll_.valid()) {
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, sink->fd_.get(), nullptr);
  }
}

std::vector<std::shared_ptr<TraceSink>> TraceReader::ListenSinks() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<TraceSink>> out;
  for (const auto& [id, sink] : sinks_) {
    if (sink->listen()) out.push_back(sink);
  }
  return out;
}

TraceReader::PacketCounts TraceReader::packet_counts() const {
  return {syscall_.load(),   ignored_.load(),       unknown_type_.load(), malformed_.load(),
          truncated_.load(), invalid_sysno_.load(), handshake_.load()};
}

void TraceReader::MarkClosed(TraceSink& sink) {
  sink.closed_ = true;
  // The fd stays open until the sink is removed; shut it down now so the
  // peer sees the end at once (runsc's handshake read, the sentry's writes).
  shutdown(sink.fd_.get(), SHUT_RDWR);
  std::lock_guard<std::mutex> lock(mu_);
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, sink.fd_.get(), nullptr);
}

void TraceReader::Accept() {
  while (true) {
    int fd = accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or an error the next wakeup retries
    UniqueFd conn(fd);
    size_t open = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [id, s] : sinks_) open += s->listen() ? 1 : 0;
    }
    if (open >= options_.max_listen_connections) continue;  // closes it: runsc's setup fails
    Register(std::make_shared<TraceSink>(std::move(conn), true, options_.arch, options_.limits));
  }
}

void TraceReader::Drain(TraceSink& sink) {
  drained_packets_ = 0;
  const int fd = sink.fd_.get();
  if (sink.listen_ && !sink.handshaken_) {
    // runsc sends Handshake{version} without a header and waits for ours.
    char buf[1024];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0 || !ParseHandshake(std::string_view(buf, static_cast<size_t>(n))).ok()) {
      ++malformed_;
      MarkClosed(sink);
      return;
    }
    const std::string reply = HandshakeReply();
    if (send(fd, reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL) !=
        static_cast<ssize_t>(reply.size())) {
      MarkClosed(sink);
      return;
    }
    sink.handshaken_ = true;
    ++handshake_;
    return;
  }
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    for (size_t i = 0; i < kBatch; ++i) {
      iovs[i] = {buffers_.data() + i * kPacketBuffer, kPacketBuffer};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      MarkClosed(sink);  // ECONNRESET and the like: the peer is gone
      return;
    }
    if (n == 0) {
      MarkClosed(sink);
      return;
    }
    drained_packets_ += static_cast<size_t>(n);
    bool eof = false;
    {
      std::lock_guard<std::mutex> lock(sink.stats_->mu);
      for (int i = 0; i < n; ++i) {
        const size_t len = msgs[i].msg_len;
        if (len == 0) {  // orderly shutdown (the sentry never sends empty packets)
          eof = true;
          break;
        }
        if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
          ++truncated_;
          continue;
        }
        auto ev = decoder_.Decode(std::string_view(buffers_.data() + i * kPacketBuffer, len));
        if (!ev.ok()) {
          ++malformed_;
          continue;
        }
        if (ev->kind == TraceEvent::Kind::kUnknownType) ++unknown_type_;
        switch (sink.stats_->agg.Add(*ev)) {
          case SyscallAggregator::AddResult::kCounted:
            ++syscall_;
            break;
          case SyscallAggregator::AddResult::kIgnored:
            if (ev->kind != TraceEvent::Kind::kUnknownType) ++ignored_;
            break;
          case SyscallAggregator::AddResult::kInvalidSysno:
            ++invalid_sysno_;
            break;
        }
      }
    }
    if (eof) {
      MarkClosed(sink);
      return;
    }
    if (static_cast<size_t>(n) < kBatch) return;
  }
}

void TraceReader::Loop() {
  // The sentry drops events when this thread is descheduled long enough for
  // a sink's send buffer to fill (8 MiB, ~10 000 events in attach mode; the
  // kernel's default ~200 KiB, a few hundred, for listen-mode sinks).
  pthread_setname_np(pthread_self(), "gve-trace-read");  // for top -H
  scheduling_ = RaiseThreadPriority(options_.realtime_priority, options_.coalesce.count() > 0);
  const bool pause = options_.coalesce.count() > 0 && scheduling_ == Scheduling::kRealtime;
  epoll_event events[64];
  while (!stop_) {
    int n = epoll_wait(epoll_.get(), events, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    bool drained = false;
    size_t deepest = 0;  // packets read from the fullest sink this round
    for (int i = 0; i < n && !stop_; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kWakeId) continue;
      if (id == kListenId) {
        Accept();
        continue;
      }
      std::shared_ptr<TraceSink> sink;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = sinks_.find(id);
        if (it != sinks_.end()) sink = it->second;
      }
      if (sink && !sink->closed()) {
        Drain(*sink);
        drained = true;
        deepest = std::max(deepest, drained_packets_);
      }
    }
    // A deep queue means the reader is behind (a loaded node, many busy
    // sandboxes): then it reads on at once rather than risk the sentry's drops.
    if (drained && deepest < kDeepQueue && pause && !stop_) {
      std::this_thread::sleep_for(options_.coalesce);
    }
  }
}

}  // namespace gvisor_exporter
