// Reads trace sinks: one thread, one epoll set, non-blocking sockets.
//
// A sink is our end of a SOCK_SEQPACKET connection the sentry writes events
// to: either a socketpair whose other end we passed to
// containerManager.CreateTraceSession (attach mode), or a connection runsc
// made to our listening socket because the sandbox was started with a
// pod-init config (listen mode; handshake first). The sentry's end is
// non-blocking, so when this thread falls behind (or the whole exporter is
// stopped) the sentry drops events and counts them; it never waits for us.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/common/unique_fd.h"
#include "exporter/sources/trace/syscall_aggregator.h"

namespace gvisor_exporter {

// One sink's statistics. Written by the reader thread, read by the poller.
// Sinks of successive sessions of one sandbox (sampling) share them.
class TraceSink {
 public:
  TraceSink(UniqueFd fd, bool listen, Arch arch, SyscallLimits limits);
  // A sink whose statistics continue those of `previous` (a new session of
  // the same sandbox): counts carry on, drop counters restart for the session.
  TraceSink(UniqueFd fd, const TraceSink& previous);

  bool listen() const { return listen_; }
  // The peer closed (sandbox gone, session deleted or replaced).
  bool closed() const { return closed_.load(); }
  uint64_t dropped() const;
  void ObserveSessionDrops(uint64_t total);
  void RetainContainers(const std::set<std::string>& live_ids);
  std::vector<std::string> container_ids() const;
  std::vector<ContainerSyscalls> Containers() const;

 private:
  friend class TraceReader;
  const UniqueFd fd_;
  uint64_t id_ = 0;  // epoll key, set by TraceReader
  const bool listen_;
  bool handshaken_ = false;  // reader thread only
  std::atomic<bool> closed_{false};
  struct Stats {
    Stats(Arch arch, SyscallLimits limits) : agg(arch, limits) {}
    mutable std::mutex mu;
    SyscallAggregator agg;  // guarded by mu
  };
  const std::shared_ptr<Stats> stats_;
};

class TraceReader {
 public:
  struct Options {
    Arch arch = HostArch();
    SyscallLimits limits;
    // Listen mode: path of the SOCK_SEQPACKET socket runsc connects to
    // (pod-init config "endpoint"); "" = attach mode only.
    std::string listen_path;
    size_t max_listen_connections = 4096;
    // After a round that read events the thread pauses this long before it
    // waits again, so a busy sandbox's events pile up in the sink's buffer
    // and are read in batches. Waking the reader once per event is what made
    // a traced syscall expensive: the sentry pays for every wakeup it causes
    // (BENCHMARKS.md: 1 ms took systrap's +45 us per traced syscall to +16).
    // Only a realtime reader pauses: it wakes when the pause ends. A
    // normal-class one may wait far longer for a core, and pausing it made
    // ten busy sandboxes on two cores drop 10-20%. 0 = read at once.
    std::chrono::microseconds coalesce{0};
    // SCHED_FIFO priority of the reader thread; 0 = stay in the normal class
    // at nice -10. A normal-class reader competes with the sandboxes through
    // the cgroup hierarchy, where nice does not reach: with ten busy sandboxes
    // on two cores it fell seconds behind and the sentries dropped 7-18% of
    // their events; at priority 1 none (BENCHMARKS.md). Its CPU is bounded by
    // the events the (normal-class) sentries produce, each costing them ~10x
    // what it costs the reader, and the kernel caps realtime threads at
    // sched_rt_runtime_us (95% of a core) anyway. Needs CAP_SYS_NICE; refused,
    // the thread falls back to nice -10, then to nothing.
    int realtime_priority = 1;
  };

  // How the reader thread is scheduled (Options::realtime_priority).
  enum class Scheduling { kStarting, kRealtime, kNice, kNormal };

  using PacketCounts = TracePacketCounts;

  explicit TraceReader(Options options);
  ~TraceReader();

  // Creates the epoll set (and the listening socket) and starts the thread.
  Status Start();
  void Stop();

  // Attach mode: reads `fd` from now on. With `continues`, the new sink adds
  // to that sink's statistics (the next sampling window's session).
  std::shared_ptr<TraceSink> AddSink(UniqueFd fd, const TraceSink* continues = nullptr);
  // Stops reading a sink (its fd closes when the last reference goes).
  void RemoveSink(const std::shared_ptr<TraceSink>& sink);
  // Listen-mode connections, open or closed, not yet removed.
  std::vector<std::shared_ptr<TraceSink>> ListenSinks() const;

  PacketCounts packet_counts() const;
  Scheduling scheduling() const { return scheduling_.load(); }
  const Options& options() const { return options_; }

 private:
  void Loop();
  void Register(const std::shared_ptr<TraceSink>& sink);
  void Accept();
  void Drain(TraceSink& sink);
  void MarkClosed(TraceSink& sink);

  const Options options_;
  TraceDecoder decoder_;        // reader thread only
  size_t drained_packets_ = 0;  // reader thread only: packets the last Drain() read
  std::vector<char> buffers_;   // reader thread only: one batch of packets
  UniqueFd epoll_;
  UniqueFd wake_;    // eventfd: stop
  UniqueFd listen_;  // listen mode
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<Scheduling> scheduling_{Scheduling::kStarting};

  mutable std::mutex mu_;  // guards sinks_ and next_id_
  std::map<uint64_t, std::shared_ptr<TraceSink>> sinks_;
  uint64_t next_id_ = 1;  // epoll data: 0 = wake, 1.. = sinks; listen uses kListenId

  std::atomic<uint64_t> syscall_{0}, ignored_{0}, unknown_type_{0}, malformed_{0}, truncated_{0},
      invalid_sysno_{0}, handshake_{0};
};

// "realtime", "nice", "normal"; "" while starting.
const char* SchedulingName(TraceReader::Scheduling scheduling);

}  // namespace gvisor_exporter
