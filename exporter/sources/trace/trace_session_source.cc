#include "exporter/sources/trace/trace_session_source.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "exporter/common/log.h"
#include "exporter/sources/control/control_client.h"

namespace gvisor_exporter {

namespace {

constexpr char kSessionName[] = "Default";
constexpr char kSource[] = "syscalls";

// The Default session in a ListTraceSessions reply, or null.
const nlohmann::json* FindDefault(const nlohmann::json& sessions) {
  if (!sessions.is_array()) return nullptr;  // Go's nil slice is JSON null
  for (const auto& s : sessions) {
    if (s.is_object() && s.value("name", nlohmann::json()) == kSessionName) return &s;
  }
  return nullptr;
}

uint64_t SessionDrops(const nlohmann::json& session) {
  uint64_t total = 0;
  const auto sinks = session.find("sinks");
  if (sinks == session.end() || !sinks->is_array()) return 0;
  for (const auto& sink : *sinks) {
    if (!sink.is_object()) continue;
    const auto status = sink.find("status");
    if (status == sink.end() || !status->is_object()) continue;
    const auto dc = status->find("DroppedCount");
    if (dc != status->end() && dc->is_number_unsigned()) total += dc->get<uint64_t>();
  }
  return total;
}

}  // namespace

TraceSessionSource::TraceSessionSource(TraceSessionOptions options, ErrorReporter* errors)
    : options_(std::move(options)),
      errors_(errors),
      reader_(options_.reader),
      record_(options_.record_path) {}

TraceSessionSource::~TraceSessionSource() { DetachAll(); }

Status TraceSessionSource::Start() {
  Status loaded = record_.Load();
  if (!loaded.ok()) errors_->Report(kSource, loaded, "session record");
  return reader_.Start();
}

bool TraceSessionSource::OptedIn(const SandboxInfo& sb) const {
  if (sb.syscalls_annotation == "false") return false;
  if (sb.syscalls_annotation == "true") return true;
  return options_.all || options_.namespaces.count(sb.pod_namespace) > 0;
}

nlohmann::json TraceSessionSource::SessionConfig() const {
  std::vector<uint64_t> numbers = options_.syscalls;
  if (numbers.empty()) {
    const Arch arch = options_.reader.arch;
    for (uint64_t nr = 0; nr < std::min(SyscallTableSize(arch), kMaxTracedSysno); ++nr) {
      if (!SyscallName(arch, nr).empty()) numbers.push_back(nr);
    }
  }
  nlohmann::json points = nlohmann::json::array();
  for (uint64_t nr : numbers) {
    const std::string base = "syscall/sysno/" + std::to_string(nr);
    points.push_back({{"name", base + "/enter"}, {"context_fields", {"container_id"}}});
    // Exit events carry the context configured on the ENTER point (a runsc
    // quirk), so they need no fields of their own.
    if (options_.errors) points.push_back({{"name", base + "/exit"}});
  }
  return {
      {"name", kSessionName},
      // Points this runsc does not have (a syscall newer than it) are skipped
      // instead of failing the whole session.
      {"ignore_missing", true},
      {"points", points},
      // retries 0: drop at the first EAGAIN, never make the workload wait.
      {"sinks", {{{"name", "remote"}, {"config", {{"retries", 0}}}}}},
  };
}

StatusOr<nlohmann::json> TraceSessionSource::CallSandbox(const SandboxInfo& sb, const char* method,
                                                         const nlohmann::json& arg,
                                                         std::span<const int> fds) {
  // A fresh connection per call (0.13 ms): session calls are rare and must
  // not interleave with the usage poller's persistent connection.
  UrpcConnection conn(ControlSocketAddress(sb), options_.urpc);
  return conn.Call(method, arg, fds);
}

void TraceSessionSource::Backoff(Entry& e) {
  ++e.failures;
  auto delay = options_.retry_initial * (1 << std::min(e.failures - 1, 10));
  e.retry_at = Clock::now() + std::min<std::chrono::milliseconds>(delay, options_.retry_max);
}

void TraceSessionSource::Attach(Entry& e, bool* failed) {
  const SandboxInfo& sb = e.info;
  auto sessions = CallSandbox(sb, "containerManager.ListTraceSessions", nlohmann::json::object());
  if (!sessions.ok()) {
    errors_->Report(kSource, sessions.status(), sb.id);
    e.state = TraceSessionState::kError;
    Backoff(e);
    *failed = true;
    return;
  }
  const bool exists = FindDefault(*sessions) != nullptr;
  const bool ours = record_.Contains(sb);
  if (exists && !ours && !options_.force) {
    // Another consumer's session: leave it alone, look again next poll.
    if (e.state != TraceSessionState::kForeign) {
      LogWarn(
          "sandbox already has a trace session of another consumer; not replacing it "
          "(--syscalls.force would)",
          {{"sandbox_id", sb.id}});
    }
    e.state = TraceSessionState::kForeign;
    return;
  }

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    errors_->Report(kSource, ErrnoError(errno, "socketpair"), sb.id);
    e.state = TraceSessionState::kError;
    Backoff(e);
    *failed = true;
    return;
  }
  UniqueFd ours_end(sv[0]), sentry_end(sv[1]);
  // Room for bursts while the reader is busy; beyond it the sentry drops.
  const int bytes = static_cast<int>(options_.sink_buffer_bytes);
  if (setsockopt(sentry_end.get(), SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) != 0) {
    setsockopt(sentry_end.get(), SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
  }
  fcntl(ours_end.get(), F_SETFL, fcntl(ours_end.get(), F_GETFL) | O_NONBLOCK);
  // After a sampling pause the new session's counts add to the last window's.
  // (e.sink outlives a session only through a pause: a lost session drops it.)
  const bool resumes = e.sink != nullptr;
  auto sink = reader_.AddSink(std::move(ours_end), resumes ? e.sink.get() : nullptr);

  const int fds[] = {sentry_end.get()};
  auto created = CallSandbox(sb, "containerManager.CreateTraceSession",
                             {{"Config", SessionConfig()}, {"Force", exists}}, fds);
  if (!created.ok()) {
    reader_.RemoveSink(sink);
    errors_->Report(kSource, created.status(), sb.id);
    e.state = TraceSessionState::kError;
    Backoff(e);
    *failed = true;
    return;
  }
  // The sentry re-wrapped its copy of the fd, which cleared O_NONBLOCK on the
  // shared file description: set it again, now, from our copy.
  if (fcntl(sentry_end.get(), F_SETFL, fcntl(sentry_end.get(), F_GETFL) | O_NONBLOCK) != 0) {
    errors_->Report(kSource, ErrnoError(errno, "fcntl O_NONBLOCK on the sink"), sb.id);
  }
  sentry_end.reset();
  Status recorded = record_.Add(sb);
  if (!recorded.ok()) errors_->Report(kSource, recorded, "session record");
  if (exists) {
    LogWarn("replaced the sandbox's existing trace session",
            {{"sandbox_id", sb.id},
             {"reason", ours ? "our own from an earlier run" : "--syscalls.force"}});
  }
  if (!resumes) {
    LogInfo("syscall trace session created",
            {{"sandbox_id", sb.id}, {"namespace", sb.pod_namespace}, {"pod", sb.pod_name}});
  }
  if (e.sink) reader_.RemoveSink(e.sink);
  e.sink = std::move(sink);
  e.state = TraceSessionState::kActive;
  e.failures = 0;
  e.window_start = Clock::now();
  e.next_window = e.window_start + options_.sample_period;
}

void TraceSessionSource::Pause(Entry& e, Clock::time_point now) {
  // Deleting the session makes the sentry close its end; the reader reads
  // what is still queued and then marks the sink closed. The sink stays so
  // its counts are served, and the next window's sink continues them.
  auto deleted = CallSandbox(e.info, "containerManager.DeleteTraceSession", kSessionName);
  if (!deleted.ok()) {
    // Still tracing: count the time, and try again at the next poll.
    errors_->Report(kSource, deleted.status(), e.info.id);
    return;
  }
  Status removed = record_.Remove(e.info);
  if (!removed.ok()) errors_->Report(kSource, removed, "session record");
  e.traced += now - e.window_start;
  e.state = TraceSessionState::kPaused;
}

void TraceSessionSource::Check(Entry& e, bool* failed) {
  if (e.sink->closed()) {
    // The sentry closed our sink: the session was deleted or replaced.
    LogWarn("syscall trace session lost (deleted or replaced)", {{"sandbox_id", e.info.id}});
    reader_.RemoveSink(e.sink);
    e.sink.reset();
    e.traced = {};  // the counts restart, and so does the time they cover
    Status removed = record_.Remove(e.info);
    if (!removed.ok()) errors_->Report(kSource, removed, "session record");
    e.state = TraceSessionState::kError;
    e.failures = 0;
    e.retry_at = Clock::now();  // look right away: foreign now, or gone
    return;
  }
  auto sessions =
      CallSandbox(e.info, "containerManager.ListTraceSessions", nlohmann::json::object());
  if (!sessions.ok()) {
    errors_->Report(kSource, sessions.status(), e.info.id);
    *failed = true;
    return;  // keep reading; the sink tells us if the session is really gone
  }
  if (const nlohmann::json* s = FindDefault(*sessions))
    e.sink->ObserveSessionDrops(SessionDrops(*s));
}

void TraceSessionSource::Detach(Entry& e) {
  if (e.state == TraceSessionState::kActive && e.sink && !e.sink->closed()) {
    // Still our sink, so still our session: delete it.
    auto deleted = CallSandbox(e.info, "containerManager.DeleteTraceSession", kSessionName);
    if (!deleted.ok()) errors_->Report(kSource, deleted.status(), e.info.id);
  }
  if (e.sink) reader_.RemoveSink(e.sink);
  e.sink.reset();
  Status removed = record_.Remove(e.info);
  if (!removed.ok()) errors_->Report(kSource, removed, "session record");
}

SyscallSync TraceSessionSource::Sync(const std::vector<SandboxInfo>& live) {
  SyscallSync out;
  bool failed = false;
  std::set<std::string> live_keys;
  for (const SandboxInfo& sb : live) live_keys.insert(SandboxKey(sb));

  // Sandboxes that are gone take their sessions with them: just forget them.
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (live_keys.count(it->first)) {
      ++it;
      continue;
    }
    if (it->second.sink) reader_.RemoveSink(it->second.sink);
    it = entries_.erase(it);
  }
  Status retained = record_.RetainLive(live);
  if (!retained.ok()) errors_->Report(kSource, retained, "session record");

  const auto now = Clock::now();
  for (const SandboxInfo& sb : live) {
    const std::string key = SandboxKey(sb);
    auto it = entries_.find(key);
    if (!options_.attach || !OptedIn(sb)) {
      if (it != entries_.end()) {
        Detach(it->second);
        entries_.erase(it);
      }
      continue;
    }
    if (it == entries_.end()) {
      Entry fresh;
      fresh.info = sb;
      it = entries_.emplace(key, std::move(fresh)).first;
    }
    Entry& e = it->second;
    e.info = sb;
    if (e.state == TraceSessionState::kActive) Check(e, &failed);
    if (sampling() && e.state == TraceSessionState::kActive &&
        now - e.window_start >= options_.sample_on) {
      Pause(e, now);
    }
    if (e.state == TraceSessionState::kPaused) {
      if (now >= e.next_window) Attach(e, &failed);
    } else if (e.state != TraceSessionState::kActive && now >= e.retry_at) {
      Attach(e, &failed);
    }

    SandboxSyscalls stats;
    stats.mode = "attach";
    stats.state = e.state;
    if (sampling()) {
      stats.sampled = true;
      Clock::duration traced = e.traced;
      if (e.state == TraceSessionState::kActive && now > e.window_start)
        traced += now - e.window_start;
      stats.traced_seconds = std::chrono::duration<double>(traced).count();
    }
    if (e.sink) {
      std::set<std::string> ids;
      for (const auto& c : sb.containers) ids.insert(c.id);
      e.sink->RetainContainers(ids);
      stats.dropped_events = e.sink->dropped();
      stats.containers = e.sink->Containers();
    }
    out.sandboxes[key] = std::move(stats);
  }

  // Listen mode: match each connection to the live sandbox that has one of
  // the container ids its events named.
  std::map<std::string, const SandboxInfo*> by_container;
  for (const SandboxInfo& sb : live) {
    for (const auto& c : sb.containers) by_container[c.id] = &sb;
  }
  for (const auto& sink : reader_.ListenSinks()) {
    const SandboxInfo* owner = nullptr;
    for (const std::string& id : sink->container_ids()) {
      auto f = by_container.find(id);
      if (f != by_container.end()) {
        owner = f->second;
        break;
      }
    }
    if (owner == nullptr) {
      // Not matched (yet): a connection that closed is a sandbox that is gone.
      if (sink->closed()) reader_.RemoveSink(sink);
      continue;
    }
    const std::string key = SandboxKey(*owner);
    if (out.sandboxes.count(key)) continue;  // attach mode already serves it
    std::set<std::string> ids;
    for (const auto& c : owner->containers) ids.insert(c.id);
    sink->RetainContainers(ids);
    SandboxSyscalls stats;
    stats.mode = "listen";
    stats.state = sink->closed() ? TraceSessionState::kError : TraceSessionState::kActive;
    stats.dropped_events = sink->dropped();
    stats.containers = sink->Containers();
    out.sandboxes[key] = std::move(stats);
  }
  out.success = !failed;
  out.packets = reader_.packet_counts();
  out.reader_scheduling = SchedulingName(reader_.scheduling());
  return out;
}

void TraceSessionSource::Read(Poll& poll) {
  NodeSnapshot& snap = poll.snapshot();
  std::vector<SandboxInfo> live;
  live.reserve(snap.sandboxes.size());
  for (const SandboxSnapshot& s : snap.sandboxes) live.push_back(s.info);
  poll.Time("syscalls", [&] {
    SyscallSync sync = Sync(live);
    for (SandboxSnapshot& s : snap.sandboxes) {
      auto it = sync.sandboxes.find(SandboxKey(s.info));
      if (it != sync.sandboxes.end()) s.syscalls = std::move(it->second);
    }
    snap.trace_packets = sync.packets;
    snap.trace_reader_scheduling = sync.reader_scheduling;
    return sync.success;
  });
}

void TraceSessionSource::Shutdown() { DetachAll(); }

void TraceSessionSource::DetachAll() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& [key, e] : entries_) Detach(e);
  entries_.clear();
  reader_.Stop();
}

}  // namespace gvisor_exporter
