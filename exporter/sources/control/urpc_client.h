// A client connection to a gVisor sandbox's control socket (urpc).
//
// One request at a time: write {"method","arg"}, read until one complete JSON
// value arrived (see urpc_reply.h). Every call has a deadline covering
// connect, write and read, and a reply size limit, so a wedged or hostile
// sentry costs at most `call_timeout` and `max_reply_bytes` per call.
#pragma once

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// Where a control socket lives: an abstract name (runsc < 20230920) or a
// filesystem path (newer runsc, `<root>/runsc-<id>.sock`). Abstract names are
// per network namespace: the exporter must run in the host's (hostNetwork).
// The server accepts peers with uid 0 or its own uid.
class SocketAddress {
 public:
  // `name` is used verbatim after the leading NUL: runsc's name carries a
  // trailing NUL that is part of the address.
  static SocketAddress Abstract(std::string_view name);
  static SocketAddress Path(std::string_view path);
  // The abstract address runsc 20221219 listens on: "\0runsc-sandbox.<id>\0".
  static SocketAddress ForRunscSandbox(std::string_view sandbox_id);

  bool is_abstract() const { return abstract_; }
  const std::string& name() const { return name_; }
  // "@name" (NULs shown as '@', like /proc/net/unix) or the path.
  std::string ToString() const;
  bool operator==(const SocketAddress& o) const = default;

 private:
  SocketAddress(bool abstract, std::string_view name) : abstract_(abstract), name_(name) {}
  bool abstract_ = false;
  std::string name_;
};

struct UrpcOptions {
  // Deadline of one Call: connecting (when needed), sending and receiving.
  std::chrono::milliseconds call_timeout{1000};
  // Replies larger than this fail with kTooLarge; nothing more is buffered.
  size_t max_reply_bytes = 1 << 20;
};

class UrpcConnection {
 public:
  explicit UrpcConnection(SocketAddress address, UrpcOptions options = {});
  ~UrpcConnection();
  UrpcConnection(const UrpcConnection&) = delete;
  UrpcConnection& operator=(const UrpcConnection&) = delete;

  // Calls `method` with `arg` and returns the reply's `result`. Connects first
  // when not connected. Errors: kNotFound (no socket file), kUnavailable
  // (refused, peer closed), kTimeout, kTooLarge, kParse (not a urpc reply),
  // kRemote (success:false; `err` is the message), kPermission.
  // After kRemote the stream is still in sync and the connection stays open;
  // after any other error it is closed and the next Call reconnects.
  // Not thread-safe: one call at a time, as the protocol requires.
  StatusOr<nlohmann::json> Call(std::string_view method, const nlohmann::json& arg);
  // The same, passing `fds` with the request as SCM_RIGHTS (urpc's
  // FilePayload, e.g. the sink of containerManager.CreateTraceSession). The
  // caller keeps its fds; the peer receives duplicates.
  StatusOr<nlohmann::json> Call(std::string_view method, const nlohmann::json& arg,
                                std::span<const int> fds);

  bool connected() const { return fd_ >= 0; }
  void Close();
  const SocketAddress& address() const { return address_; }

 private:
  using Clock = std::chrono::steady_clock;
  Status Connect(Clock::time_point deadline);
  Status SendAll(std::string_view data, std::span<const int> fds, Clock::time_point deadline);
  StatusOr<std::string> ReceiveReply(Clock::time_point deadline);
  // Waits until fd_ is ready for `events` or the deadline passes.
  Status WaitFor(int16_t events, Clock::time_point deadline, const char* what);

  SocketAddress address_;
  UrpcOptions options_;
  int fd_ = -1;
};

}  // namespace gvisor_exporter
