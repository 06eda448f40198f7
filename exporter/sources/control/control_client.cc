#include "exporter/sources/control/control_client.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "exporter/common/ids.h"
#include "exporter/sources/control/usage_parser.h"

namespace gvisor_exporter {
namespace {

constexpr char kEventMethod[] = "containerManager.Event";
constexpr char kUsageMethod[] = "Usage.Collect";

// containerManager.Event takes `{}` up to runsc 20230731 and the container id
// as a JSON string after it. Which one a sandbox speaks is learned from its
// first reply and remembered for that sandbox across reconnects (a new socket
// address starts a new entry, so it is learned again).
enum class EventArg { kUnknown, kEmptyObject, kContainerId };

nlohmann::json EventArgFor(EventArg style, const std::string& id) {
  return style == EventArg::kContainerId ? nlohmann::json(id) : nlohmann::json::object();
}

// What Go's encoding/json says when the arg has the other shape, e.g.
// "json: cannot unmarshal string into Go value of type struct {}".
bool IsArgShapeError(const Status& s) {
  return s.reason() == Reason::kRemote && s.message().find("unmarshal") != std::string::npos;
}

}  // namespace

SocketAddress ControlSocketAddress(const SandboxInfo& sb) {
  if (!sb.control_socket_path.empty()) return SocketAddress::Path(sb.control_socket_path);
  return SocketAddress::ForRunscSandbox(sb.id);
}

struct ControlSocketClient::Entry {
  Entry(SocketAddress address, const UrpcOptions& options) : conn(std::move(address), options) {}
  std::mutex mu;  // one call at a time on `conn`; guards all fields below
  UrpcConnection conn;
  EventArg event_arg = EventArg::kUnknown;
  int failures = 0;  // consecutive failed Collects
  Clock::time_point retry_after{};
  Status last_error;
};

ControlSocketClient::ControlSocketClient(ControlClientOptions options) : options_(options) {}

ControlSocketClient::~ControlSocketClient() = default;

std::string ControlSocketClient::Key(const std::string& root, const std::string& sandbox_id) {
  // Same as the poller's SandboxKey(), so its `live` set can be passed as is.
  return root + "\n" + sandbox_id;
}

std::shared_ptr<ControlSocketClient::Entry> ControlSocketClient::GetEntry(const SandboxInfo& sb) {
  SocketAddress address = ControlSocketAddress(sb);
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<Entry>& slot = entries_[Key(sb)];
  // The address is immutable per entry, so reading it needs no entry lock.
  if (!slot || !(slot->conn.address() == address)) {
    slot = std::make_shared<Entry>(std::move(address), options_.urpc);
  }
  return slot;
}

namespace {

// Sends containerManager.Event in the sandbox's dialect, learning it if needed.
StatusOr<EventStats> CallEvent(UrpcConnection& conn, EventArg* style, const std::string& id) {
  EventArg attempt =
      *style == EventArg::kContainerId ? EventArg::kContainerId : EventArg::kEmptyObject;
  for (int i = 0;; ++i) {
    StatusOr<nlohmann::json> r = conn.Call(kEventMethod, EventArgFor(attempt, id));
    if (r.ok()) {
      *style = attempt;
      return ParseEventResult(*r);
    }
    if (i == 1 || !IsArgShapeError(r.status())) return r.status();
    attempt = attempt == EventArg::kEmptyObject ? EventArg::kContainerId : EventArg::kEmptyObject;
  }
}

// Newer runsc counts pids per container (Event takes an id); the model wants
// the sandbox's tasks, so the other containers' counts are added. A container
// that stopped or is not started yet answers with an error: it has no tasks.
Status AddOtherContainersPids(UrpcConnection& conn, const SandboxInfo& sb, EventStats* stats) {
  for (const ContainerInfo& c : sb.containers) {
    if (c.id == sb.id || !IsValidId(c.id)) continue;
    StatusOr<nlohmann::json> r = conn.Call(kEventMethod, nlohmann::json(c.id));
    if (!r.ok()) {
      if (r.status().reason() == Reason::kRemote) continue;
      return r.status();
    }
    StatusOr<EventStats> other = ParseEventResult(*r);
    if (!other.ok()) return other.status();
    if (other->pids) stats->pids = stats->pids.value_or(0) + *other->pids;
  }
  return Status::Ok();
}

}  // namespace

StatusOr<SandboxUsage> ControlSocketClient::CollectLocked(Entry& e, const SandboxInfo& sb,
                                                          bool full_memory) {
  StatusOr<EventStats> event = CallEvent(e.conn, &e.event_arg, sb.id);
  if (!event.ok()) return event.status();
  if (e.event_arg == EventArg::kContainerId) {
    GVE_RETURN_IF_ERROR(AddOtherContainersPids(e.conn, sb, &*event));
  }
  StatusOr<nlohmann::json> usage = e.conn.Call(kUsageMethod, {{"Full", full_memory}});
  if (!usage.ok()) return usage.status();
  StatusOr<SandboxMemory> memory = ParseMemoryUsage(*usage, full_memory);
  if (!memory.ok()) return memory.status().WithContext(kUsageMethod);

  SandboxUsage out;
  out.path = StatsPath::kControlSocket;
  out.memory = *memory;
  out.pids = event->pids;
  out.container_cpu_ns = std::move(event->container_cpu_ns);
  out.network = std::move(event->network);
  return out;
}

StatusOr<SandboxUsage> ControlSocketClient::Collect(const SandboxInfo& sb, bool full_memory) {
  if (!IsValidId(sb.id)) return InvalidError("invalid sandbox id");
  std::shared_ptr<Entry> e = GetEntry(sb);
  std::lock_guard<std::mutex> lock(e->mu);
  const Clock::time_point now = Clock::now();
  if (e->failures > 0 && now < e->retry_after) {
    return UnavailableError("control socket of " + sb.id + " skipped after " +
                            std::to_string(e->failures) +
                            " failure(s), last: " + e->last_error.ToString());
  }
  StatusOr<SandboxUsage> r = CollectLocked(*e, sb, full_memory);
  // Never keep a connection idle until the next poll: it would hold up the
  // sentry's shutdown (see the header).
  e->conn.Close();
  if (r.ok()) {
    e->failures = 0;
    return r;
  }
  e->failures = std::min(e->failures + 1, 30);
  auto backoff = options_.backoff_initial * (int64_t{1} << (e->failures - 1));
  e->retry_after = now + std::min<std::chrono::milliseconds>(backoff, options_.backoff_max);
  e->last_error = r.status();
  return r.status().WithContext("sandbox " + sb.id);
}

void ControlSocketClient::Retain(const std::set<std::string>& keys) {
  // An entry still used by a Collect lives until that Collect returns.
  // Destroyed outside mu_.
  std::vector<std::shared_ptr<Entry>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (keys.count(it->first) == 0) {
        dropped.push_back(std::move(it->second));
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

size_t ControlSocketClient::pool_size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

bool ControlSocketClient::connected(const std::string& key) const {
  std::shared_ptr<Entry> e;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return false;
    e = it->second;
  }
  std::lock_guard<std::mutex> lock(e->mu);
  return e->conn.connected();
}

}  // namespace gvisor_exporter
