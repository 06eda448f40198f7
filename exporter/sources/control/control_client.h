// Reads in-sandbox usage over each sandbox's control socket.
//
// Exec'ing `runsc events -stats` + `runsc usage` costs ~60 ms wall and ~20 ms
// CPU per sandbox and poll; the same urpc calls cost well under a millisecond.
// Each Collect opens ONE connection for its calls and closes it before
// returning: no connection stays idle between polls, because the sentry's
// urpc server, when the sandbox shuts down, waits up to 15 s for idle clients
// to go away (urpc Server.Stop) — a kept-open connection made every pod
// deletion 15 s slower. Connecting costs ~0.05 ms more per poll.
//
// Per sandbox (keyed by root + sandbox id) the client remembers the Event
// argument dialect it learned and the failure backoff.
//
// Failure policy: any failed Collect closes that sandbox's connection (the
// next attempt reconnects) and starts a per-sandbox backoff, so a broken or
// wedged sentry is not hit (and waited for) on every poll: after n
// consecutive failures, Collect fails fast with kUnavailable for
// min(2^(n-1) s, 60 s). One success resets it. A changed socket address (the
// state file now names a socket path) drops the old connection and backoff.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"
#include "exporter/sources/control/urpc_client.h"

namespace gvisor_exporter {

// Where a sandbox's sentry listens: its state file's socket path (newer
// runsc), else the abstract name runsc 20221219 uses.
SocketAddress ControlSocketAddress(const SandboxInfo& sb);

struct ControlClientOptions {
  UrpcOptions urpc;  // per-call deadline and reply size limit
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60'000};
};

class ControlSocketClient {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ControlSocketClient(ControlClientOptions options = {});
  ~ControlSocketClient();

  // The pool key of a sandbox, "<root>\n<id>" (= SandboxKey() of the poller);
  // Retain takes a set of these.
  static std::string Key(const std::string& root, const std::string& sandbox_id);
  static std::string Key(const SandboxInfo& sb) { return Key(sb.root, sb.id); }

  // containerManager.Event + Usage.Collect({"Full": full_memory}) over the
  // sandbox's socket (sb.control_socket_path, else the abstract name).
  // Returns path=kControlSocket, memory (full = full_memory), pids and the
  // sentry's per-container CPU. Thread-safe; calls for different sandboxes
  // run in parallel, calls for the same sandbox are serialized.
  StatusOr<SandboxUsage> Collect(const SandboxInfo& sb, bool full_memory);

  // Forgets the state (dialect, backoff) of sandboxes whose key is not in
  // `keys`. A Collect in flight finishes first.
  void Retain(const std::set<std::string>& keys);

  // Introspection for tests and self-metrics.
  size_t pool_size() const;
  bool connected(const std::string& key) const;

 private:
  struct Entry;
  std::shared_ptr<Entry> GetEntry(const SandboxInfo& sb);
  StatusOr<SandboxUsage> CollectLocked(Entry& e, const SandboxInfo& sb, bool full_memory);

  const ControlClientOptions options_;
  mutable std::mutex mu_;  // guards entries_ (the map, not the entries)
  std::map<std::string, std::shared_ptr<Entry>> entries_;
};

}  // namespace gvisor_exporter
