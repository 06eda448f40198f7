// Syscall statistics for opted-in sandboxes through gVisor runtime monitoring.
//
// Attach mode (the default): for every live sandbox that opted in, the
// exporter creates the sandbox's one trace session ("Default") itself over
// the control socket (containerManager.CreateTraceSession), handing the
// sentry one end of a socketpair(SOCK_SEQPACKET) as the remote sink. After the
// call returns it sets O_NONBLOCK on that end: the flag lives in the file
// description the sentry shares, and runsc's own `trace create` path leaves it
// blocking, which would let a slow reader stall the workload. With it, a slow
// or stopped exporter only makes the sentry drop (and count) events.
//
// It never replaces another consumer's session (a security tool's) unless
// `force` is set; sessions it made are recorded (SessionRecord) so a restarted
// exporter recognises and replaces its own orphans. It deletes its sessions
// when a sandbox stops being opted in and at shutdown.
//
// Sampling (sample_on/sample_period set): in attach mode the session exists
// only `sample_on` out of every `sample_period`, so the workload pays the
// tracing cost only then. The window boundaries fall on polls. The counts
// then cover the traced windows only and are reported as sampled, with the
// traced time, so that a rate can be estimated but never passes for exact.
//
// Listen mode: sandboxes started with a pod-init config whose remote sink
// points at `listen_path` connect to us; their statistics are matched to a
// sandbox by the container ids in the events.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "exporter/common/error_reporter.h"
#include "exporter/model/source.h"
#include "exporter/sources/control/urpc_client.h"
#include "exporter/sources/trace/session_record.h"
#include "exporter/sources/trace/trace_reader.h"

namespace gvisor_exporter {

struct TraceSessionOptions {
  // Opt-in: every sandbox, sandboxes in these pod namespaces, or pods
  // annotated gvisor-exporter.io/syscalls="true". The annotation "false" opts
  // a pod out of the first two.
  bool all = false;
  std::set<std::string> namespaces;
  bool attach = true;  // false: listen mode only, never create sessions
  // Also enable exit points: errors by errno and unimplemented (ENOSYS)
  // syscalls, at the cost of a second event per syscall.
  bool errors = true;
  // Syscall numbers to trace; empty = every named syscall of the architecture.
  std::vector<uint64_t> syscalls;
  bool force = false;                  // replace another consumer's session
  std::string record_path;             // SessionRecord file; "" = memory only
  size_t sink_buffer_bytes = 4 << 20;  // SO_SNDBUF of the sentry's end
  // Duty cycle; 0 = a session all the time (exact counts).
  std::chrono::milliseconds sample_on{0};
  std::chrono::milliseconds sample_period{0};
  std::chrono::milliseconds retry_initial{2000};
  std::chrono::milliseconds retry_max{60000};
  UrpcOptions urpc;
  TraceReader::Options reader;
};

// What one Sync found.
struct SyscallSync {
  bool success = true;  // false when a session operation failed this poll
  std::map<std::string, SandboxSyscalls> sandboxes;  // by SandboxKey()
  TracePacketCounts packets;
  std::string reader_scheduling;  // NodeSnapshot::trace_reader_scheduling
};

// Source "syscalls": syscall statistics from runtime-monitoring trace
// sessions, for the sandboxes that opted in.
class TraceSessionSource : public Source {
 public:
  TraceSessionSource(TraceSessionOptions options, ErrorReporter* errors);
  ~TraceSessionSource() override;

  // Starts the reader (and the listening socket).
  Status Start();

  // Starts and stops trace sessions so that exactly the opted-in sandboxes
  // of `live` have one, and returns the statistics of every sandbox that has
  // one.
  SyscallSync Sync(const std::vector<SandboxInfo>& live);
  // Sync with the snapshot's sandboxes, and the result written into it.
  void Read(Poll& poll) override;
  // Removes the sessions this exporter created.
  void Shutdown() override;

  // The session config we create (for tests and docs).
  nlohmann::json SessionConfig() const;
  bool OptedIn(const SandboxInfo& sb) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    SandboxInfo info;
    // The session's sink while kActive; while kPaused, the last window's
    // (drained to its end by the reader), whose statistics the next continues.
    std::shared_ptr<TraceSink> sink;
    TraceSessionState state = TraceSessionState::kError;
    int failures = 0;
    Clock::time_point retry_at{};
    // Sampling: start of the current window, start of the next one, and the
    // time traced in finished windows.
    Clock::time_point window_start{}, next_window{};
    Clock::duration traced{};
  };

  bool sampling() const { return options_.sample_period.count() > 0; }
  // Sampling: ends the current window (deletes the session, keeps the counts).
  void Pause(Entry& e, Clock::time_point now);

  // One attempt to create our session; updates `e`.
  void Attach(Entry& e, bool* failed);
  // Reads our session's drop count; detects a session that disappeared.
  void Check(Entry& e, bool* failed);
  // Deletes our session if it is still ours, and forgets the sink.
  void Detach(Entry& e);
  void Backoff(Entry& e);
  void DetachAll();
  StatusOr<nlohmann::json> CallSandbox(const SandboxInfo& sb, const char* method,
                                       const nlohmann::json& arg, std::span<const int> fds = {});

  const TraceSessionOptions options_;
  ErrorReporter* errors_;
  TraceReader reader_;
  SessionRecord record_;
  std::map<std::string, Entry> entries_;  // by SandboxKey, attach mode; poller thread only
  bool shut_down_ = false;
};

}  // namespace gvisor_exporter
