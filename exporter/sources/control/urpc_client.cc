#include "exporter/sources/control/urpc_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>

#include "exporter/sources/control/urpc_reply.h"

namespace gvisor_exporter {
namespace {

constexpr size_t kRecvChunk = size_t{64} * 1024;
// Room for the fds one message may carry; any beyond are closed by the kernel.
constexpr size_t kMaxFdsPerMessage = 16;

int MillisUntil(std::chrono::steady_clock::time_point t) {
  auto left =
      std::chrono::ceil<std::chrono::milliseconds>(t - std::chrono::steady_clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 3'600'000));
}

// Closes every fd passed as SCM_RIGHTS: urpc replies to the methods we call
// carry none, and an unexpected one must not leak into the exporter.
void CloseReceivedFds(msghdr* msg) {
  for (cmsghdr* c = CMSG_FIRSTHDR(msg); c != nullptr; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      close(fd);
    }
  }
}

// A sockaddr_un for `addr`. Paths longer than sun_path are reached through
// /proc/self/fd/<dir fd>/<name>; *dir_fd then holds that directory open.
StatusOr<socklen_t> BuildSockaddr(const SocketAddress& addr, sockaddr_un* sa, int* dir_fd) {
  std::memset(sa, 0, sizeof(*sa));
  sa->sun_family = AF_UNIX;
  std::string name = addr.name();
  if (addr.is_abstract()) {
    if (name.size() + 1 > sizeof(sa->sun_path)) return InvalidError("abstract name too long");
    std::memcpy(sa->sun_path + 1, name.data(), name.size());
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  }
  if (name.empty() || name.find('\0') != std::string::npos) return InvalidError("bad socket path");
  if (name.size() >= sizeof(sa->sun_path)) {
    const size_t slash = name.rfind('/');
    if (slash == std::string::npos) return InvalidError("socket path too long");
    const std::string dir = slash == 0 ? "/" : name.substr(0, slash);
    *dir_fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dir_fd < 0) return ErrnoError(errno, "open " + dir);
    name = "/proc/self/fd/" + std::to_string(*dir_fd) + name.substr(slash);
    if (name.size() >= sizeof(sa->sun_path)) return InvalidError("socket name too long");
  }
  std::memcpy(sa->sun_path, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
}

}  // namespace

SocketAddress SocketAddress::Abstract(std::string_view name) { return {true, name}; }
SocketAddress SocketAddress::Path(std::string_view path) { return {false, path}; }
SocketAddress SocketAddress::ForRunscSandbox(std::string_view sandbox_id) {
  std::string name = "runsc-sandbox.";
  name.append(sandbox_id);
  name.push_back('\0');
  return Abstract(name);
}

std::string SocketAddress::ToString() const {
  if (!abstract_) return name_;
  std::string s = "@" + name_;
  std::replace(s.begin(), s.end(), '\0', '@');
  return s;
}

UrpcConnection::UrpcConnection(SocketAddress address, UrpcOptions options)
    : address_(std::move(address)), options_(options) {}

UrpcConnection::~UrpcConnection() { Close(); }

void UrpcConnection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Status UrpcConnection::WaitFor(int16_t events, Clock::time_point deadline, const char* what) {
  while (true) {
    pollfd p{fd_, events, 0};
    int rc = poll(&p, 1, MillisUntil(deadline));
    if (rc > 0) return Status::Ok();  // ready, or an error the next syscall reports
    if (rc == 0) {
      return TimeoutError(std::string(what) + ": no progress within " +
                          std::to_string(options_.call_timeout.count()) + " ms");
    }
    if (errno != EINTR) return ErrnoError(errno, "poll");
  }
}

Status UrpcConnection::Connect(Clock::time_point deadline) {
  sockaddr_un sa;
  int dir_fd = -1;
  StatusOr<socklen_t> len = BuildSockaddr(address_, &sa, &dir_fd);
  struct DirCloser {
    int* fd;
    ~DirCloser() {
      if (*fd >= 0) close(*fd);
    }
  } dir_closer{&dir_fd};
  if (!len.ok()) return len.status();
  fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return ErrnoError(errno, "socket");
  while (connect(fd_, reinterpret_cast<sockaddr*>(&sa), *len) != 0) {
    if (errno == EAGAIN) {
      // Listener backlog full: for AF_UNIX nothing is in progress; try again.
      if (Clock::now() >= deadline) return TimeoutError("connect: listener backlog full");
      poll(nullptr, 0, 1);
      continue;
    }
    if (errno != EINPROGRESS && errno != EINTR) return ErrnoError(errno, "connect");
    GVE_RETURN_IF_ERROR(WaitFor(POLLOUT, deadline, "connect"));
    int err = 0;
    socklen_t err_len = sizeof(err);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) return ErrnoError(err, "connect");
    break;
  }
  return Status::Ok();
}

Status UrpcConnection::SendAll(std::string_view data, std::span<const int> fds,
                               Clock::time_point deadline) {
  if (fds.size() > kMaxFdsPerMessage) return InvalidError("too many fds for one urpc request");
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  while (!data.empty()) {
    iovec iov{const_cast<char*>(data.data()), data.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds.empty()) {
      // The fds ride on the first bytes of the request, where urpc's server
      // looks for them; once any byte is sent they have been delivered.
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    // MSG_NOSIGNAL: a dead sentry must give EPIPE, not kill the exporter.
    ssize_t n = sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      data.remove_prefix(static_cast<size_t>(n));
      fds = {};
    } else if (errno == EAGAIN) {
      GVE_RETURN_IF_ERROR(WaitFor(POLLOUT, deadline, "send"));
    } else if (errno != EINTR) {
      return ErrnoError(errno, "send");
    }
  }
  return Status::Ok();
}

StatusOr<std::string> UrpcConnection::ReceiveReply(Clock::time_point deadline) {
  std::string reply;
  JsonValueScanner scanner;
  char chunk[kRecvChunk];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  while (true) {
    iovec iov{chunk, sizeof(chunk)};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n >= 0) CloseReceivedFds(&msg);
    if (n < 0) {
      if (errno == EAGAIN) {
        GVE_RETURN_IF_ERROR(WaitFor(POLLIN, deadline, "reply"));
      } else if (errno != EINTR) {
        return ErrnoError(errno, "recv");
      }
      continue;
    }
    if (n == 0) {
      return UnavailableError(reply.empty() ? "peer closed the connection without replying"
                                            : "peer closed the connection mid-reply after " +
                                                  std::to_string(reply.size()) + " bytes");
    }
    if (reply.size() + static_cast<size_t>(n) > options_.max_reply_bytes) {
      return TooLargeError("reply exceeds " + std::to_string(options_.max_reply_bytes) + " bytes");
    }
    reply.append(chunk, static_cast<size_t>(n));
    switch (scanner.Feed(std::string_view(chunk, static_cast<size_t>(n)))) {
      case JsonValueScanner::State::kNeedMore:
        continue;
      case JsonValueScanner::State::kMalformed:
        return ParseError("reply is not a JSON object");
      case JsonValueScanner::State::kTooDeep:
        return TooLargeError("reply nested too deeply");
      case JsonValueScanner::State::kComplete:
        break;
    }
    const size_t end = scanner.end_offset();
    if (!std::all_of(reply.begin() + end, reply.end(), IsJsonSpace)) {
      return ParseError("unexpected bytes after the reply");
    }
    reply.resize(end);
    return reply;
  }
}

StatusOr<nlohmann::json> UrpcConnection::Call(std::string_view method, const nlohmann::json& arg) {
  return Call(method, arg, {});
}

StatusOr<nlohmann::json> UrpcConnection::Call(std::string_view method, const nlohmann::json& arg,
                                              std::span<const int> fds) {
  const Clock::time_point deadline = Clock::now() + options_.call_timeout;
  const std::string context = "urpc " + std::string(method) + " " + address_.ToString();
  Status st;
  if (fd_ < 0) st = Connect(deadline);
  if (st.ok()) st = SendAll(EncodeUrpcRequest(method, arg), fds, deadline);
  if (!st.ok()) {
    Close();
    return st.WithContext(context);
  }
  StatusOr<std::string> reply = ReceiveReply(deadline);
  if (!reply.ok()) {
    Close();  // the stream is out of sync (or gone): start afresh next time
    return reply.status().WithContext(context);
  }
  StatusOr<nlohmann::json> result = ParseUrpcReply(*reply);
  if (!result.ok()) {
    // A success:false reply was read whole: the stream is still in sync.
    if (result.status().reason() != Reason::kRemote) Close();
    return result.status().WithContext(context);
  }
  return result;
}

}  // namespace gvisor_exporter
