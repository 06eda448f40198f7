// Test-only implementation of FakeUrpcServer (see fake_urpc_server.h).
#include "exporter/sources/control/fake_urpc_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <list>

#include "exporter/sources/control/urpc_reply.h"

namespace gvisor_exporter::testing {
namespace {

struct Conn {
  int fd;
  std::string buf;
  JsonValueScanner scanner;
};

}  // namespace

SocketAddress FakeUrpcServer::UniqueAbstractAddress() {
  static std::atomic<int> counter{0};
  return SocketAddress::Abstract("gve-test-" + std::to_string(getpid()) + "-" +
                                 std::to_string(counter++));
}

FakeUrpcServer::FakeUrpcServer(const SocketAddress& address, Handler handler)
    : address_(address), handler_(std::move(handler)) {
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  socklen_t len;
  if (address.is_abstract()) {
    std::memcpy(sa.sun_path + 1, address.name().data(), address.name().size());
    len = offsetof(sockaddr_un, sun_path) + 1 + address.name().size();
  } else {
    std::memcpy(sa.sun_path, address.name().data(), address.name().size());
    len = offsetof(sockaddr_un, sun_path) + address.name().size() + 1;
  }
  EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), len), 0) << strerror(errno);
  EXPECT_EQ(listen(listen_fd_, 16), 0);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  thread_ = std::thread([this] { Loop(); });
}

FakeUrpcServer::~FakeUrpcServer() {
  uint64_t one = 1;
  EXPECT_EQ(write(stop_fd_, &one, sizeof(one)), 8);
  thread_.join();
  close(listen_fd_);
  close(stop_fd_);
  if (!address_.is_abstract()) unlink(address_.name().c_str());
}

std::vector<nlohmann::json> FakeUrpcServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeUrpcServer::Loop() {
  std::list<Conn> conns;
  auto drop = [&](std::list<Conn>::iterator it) {
    close(it->fd);
    --open_;
    return conns.erase(it);
  };
  while (true) {
    std::vector<pollfd> fds = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const Conn& c : conns) fds.push_back({c.fd, POLLIN, 0});
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents) break;
    size_t i = 2;
    for (auto it = conns.begin(); it != conns.end(); ++i) {
      if (fds[i].revents == 0) {
        ++it;
        continue;
      }
      char chunk[65536];
      ssize_t n = recv(it->fd, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        it = drop(it);
        continue;
      }
      it->buf.append(chunk, n);
      bool keep = true;
      while (keep) {
        // Rescans the whole buffer: simple, and requests are small.
        it->scanner.Reset();
        if (it->scanner.Feed(it->buf) != JsonValueScanner::State::kComplete) break;
        std::string request = it->buf.substr(0, it->scanner.end_offset());
        it->buf.erase(0, it->scanner.end_offset());
        nlohmann::json j = nlohmann::json::parse(request, nullptr, false);
        {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(j);
        }
        keep = handler_(it->fd, j);
      }
      it = keep ? std::next(it) : drop(it);
    }
    if (fds[1].revents) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        timeval tv{2, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        conns.push_back(Conn{fd, "", JsonValueScanner()});
        ++accepted_;
        ++open_;
      }
    }
  }
  while (!conns.empty()) drop(conns.begin());
}

void FakeUrpcServer::Send(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(n);
  }
}

void FakeUrpcServer::SendReply(int fd, const nlohmann::json& result) {
  Send(fd, nlohmann::json{{"success", true}, {"err", ""}, {"result", result}}.dump());
}

void FakeUrpcServer::SendError(int fd, std::string_view err) {
  Send(fd, nlohmann::json{{"success", false}, {"err", err}, {"result", nullptr}}.dump());
}

void FakeUrpcServer::SendWithFds(int fd, std::string_view data, const std::vector<int>& fds) {
  const size_t bytes = sizeof(int) * fds.size();
  std::vector<char> control(CMSG_SPACE(bytes));
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(bytes);
  std::memcpy(CMSG_DATA(c), fds.data(), bytes);
  EXPECT_EQ(sendmsg(fd, &msg, MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
}

}  // namespace gvisor_exporter::testing
