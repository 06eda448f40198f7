// Test-only: a real AF_UNIX urpc server on its own thread, for fault tests.
// Implemented in fake_urpc_server_test.cc, so it is linked into control_test
// only and never into the library.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "exporter/sources/control/urpc_client.h"

namespace gvisor_exporter::testing {

class FakeUrpcServer {
 public:
  // Called on the server thread for every complete request, with the
  // connection's fd (blocking, 2 s send timeout). Returning false closes the
  // connection.
  using Handler = std::function<bool(int fd, const nlohmann::json& request)>;

  // Listens on `address` (abstract or path).
  FakeUrpcServer(const SocketAddress& address, Handler handler);
  ~FakeUrpcServer();

  // A unique abstract name for this process and test.
  static SocketAddress UniqueAbstractAddress();

  const SocketAddress& address() const { return address_; }
  int accepted() const { return accepted_.load(); }
  int open_connections() const { return open_.load(); }
  std::vector<nlohmann::json> requests() const;

  // Reply helpers for handlers. Send ignores errors (MSG_NOSIGNAL).
  static void Send(int fd, std::string_view data);
  static void SendReply(int fd, const nlohmann::json& result);
  static void SendError(int fd, std::string_view err);
  // Sends `data` with `fds` attached as SCM_RIGHTS (the caller keeps them).
  static void SendWithFds(int fd, std::string_view data, const std::vector<int>& fds);

 private:
  void Loop();

  SocketAddress address_;
  Handler handler_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // eventfd that wakes the loop for shutdown
  std::atomic<int> accepted_{0};
  std::atomic<int> open_{0};
  mutable std::mutex mu_;
  std::vector<nlohmann::json> requests_;
  std::thread thread_;
};

}  // namespace gvisor_exporter::testing
