#include "exporter/sources/host/taskstats.h"

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace gvisor_exporter {

namespace {

constexpr size_t kReplyBytes = 4096;  // a taskstats reply is ~450 bytes
constexpr int kMaxStaleReplies = 4;   // replies of earlier, timed-out queries

struct Attr {
  uint16_t type = 0;
  std::string_view value;
};

// The next attribute of `*rest` (advanced past it, with its padding), or
// false when what is left is no whole attribute.
bool NextAttr(std::string_view* rest, Attr* out) {
  if (rest->size() < NLA_HDRLEN) return false;
  struct nlattr hdr;
  std::memcpy(&hdr, rest->data(), sizeof(hdr));
  if (hdr.nla_len < NLA_HDRLEN || hdr.nla_len > rest->size()) return false;
  out->type = hdr.nla_type & NLA_TYPE_MASK;
  out->value = rest->substr(NLA_HDRLEN, hdr.nla_len - NLA_HDRLEN);
  rest->remove_prefix(std::min<size_t>(NLA_ALIGN(hdr.nla_len), rest->size()));
  return true;
}

// The generic-netlink payload (attributes) of one reply message, after its
// headers; a NLMSG_ERROR message becomes its errno. `seq` is filled in.
StatusOr<std::string_view> Payload(std::string_view msg, uint32_t* seq) {
  if (msg.size() < NLMSG_HDRLEN) return ParseError("netlink reply shorter than its header");
  struct nlmsghdr hdr;
  std::memcpy(&hdr, msg.data(), sizeof(hdr));
  if (hdr.nlmsg_len < NLMSG_HDRLEN || hdr.nlmsg_len > msg.size()) {
    return ParseError("netlink reply length " + std::to_string(hdr.nlmsg_len) + " of " +
                      std::to_string(msg.size()) + " bytes");
  }
  *seq = hdr.nlmsg_seq;
  msg = msg.substr(NLMSG_HDRLEN, hdr.nlmsg_len - NLMSG_HDRLEN);
  if (hdr.nlmsg_type == NLMSG_ERROR) {
    int err = 0;
    if (msg.size() < sizeof(err)) return ParseError("short netlink error");
    std::memcpy(&err, msg.data(), sizeof(err));
    if (err == 0) return ParseError("netlink acknowledgement where a reply was expected");
    // The kernel sends -errno; anything else (INT_MIN included, whose
    // negation overflows) is not an errno.
    if (err > 0 || err <= -4096) return ParseError("netlink error " + std::to_string(err));
    return ErrnoError(-err, "taskstats");
  }
  if (msg.size() < GENL_HDRLEN) return ParseError("netlink reply without a genetlink header");
  return msg.substr(GENL_HDRLEN);
}

}  // namespace

StatusOr<uint16_t> ParseFamilyReply(std::string_view msg) {
  uint32_t seq = 0;
  StatusOr<std::string_view> attrs = Payload(msg, &seq);
  if (!attrs.ok()) return attrs.status();
  std::string_view rest = *attrs;
  Attr a;
  while (NextAttr(&rest, &a)) {
    if (a.type == CTRL_ATTR_FAMILY_ID && a.value.size() >= sizeof(uint16_t)) {
      uint16_t id = 0;
      std::memcpy(&id, a.value.data(), sizeof(id));
      return id;
    }
  }
  return ParseError("no family id in the genetlink reply");
}

StatusOr<TaskContextSwitches> ParseTaskstatsReply(std::string_view msg, int64_t tgid) {
  uint32_t seq = 0;
  StatusOr<std::string_view> attrs = Payload(msg, &seq);
  if (!attrs.ok()) return attrs.status();
  std::string_view rest = *attrs;
  Attr outer;
  while (NextAttr(&rest, &outer)) {
    if (outer.type != TASKSTATS_TYPE_AGGR_TGID) continue;
    std::string_view inner_rest = outer.value;
    Attr a;
    bool tgid_matches = false;
    std::string_view stats;
    while (NextAttr(&inner_rest, &a)) {
      if (a.type == TASKSTATS_TYPE_TGID && a.value.size() >= sizeof(uint32_t)) {
        uint32_t id = 0;
        std::memcpy(&id, a.value.data(), sizeof(id));
        tgid_matches = static_cast<int64_t>(id) == tgid;
      } else if (a.type == TASKSTATS_TYPE_STATS) {
        stats = a.value;
      }
    }
    if (!tgid_matches) return ParseError("taskstats reply for another process");
    // Fields are only ever appended to struct taskstats: a reply that reaches
    // nivcsw has both counters at these offsets, whatever its version.
    constexpr size_t kEnd = offsetof(struct taskstats, nivcsw) + sizeof(uint64_t);
    if (stats.size() < kEnd) return ParseError("taskstats reply too short for nvcsw/nivcsw");
    TaskContextSwitches out;
    std::memcpy(&out.voluntary, stats.data() + offsetof(struct taskstats, nvcsw), sizeof(uint64_t));
    std::memcpy(&out.nonvoluntary, stats.data() + offsetof(struct taskstats, nivcsw),
                sizeof(uint64_t));
    return out;
  }
  return ParseError("no aggregated thread-group stats in the taskstats reply");
}

StatusOr<UniqueFd> TaskstatsClient::NewSocket() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  if (!fd.valid()) return ErrnoError(errno, "netlink socket");
  // The kernel answers within sendmsg; the timeout only bounds a surprise.
  struct timeval tv = {.tv_sec = 1, .tv_usec = 0};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
    return ErrnoError(errno, "netlink SO_RCVTIMEO");
  }
  return fd;
}

StatusOr<std::unique_ptr<TaskstatsClient>> TaskstatsClient::Open() {
  StatusOr<UniqueFd> fd = NewSocket();
  if (!fd.ok()) return fd.status();
  std::unique_ptr<TaskstatsClient> client(new TaskstatsClient(GENL_ID_CTRL));
  char buf[kReplyBytes];
  const char name[] = TASKSTATS_GENL_NAME;  // with its NUL, as the kernel expects
  StatusOr<std::string_view> reply =
      client->RoundTrip(fd->get(), GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
                        std::string_view(name, sizeof(name)), buf, sizeof(buf));
  if (!reply.ok()) return reply.status().WithContext("resolving the TASKSTATS family");
  StatusOr<uint16_t> family = ParseFamilyReply(*reply);
  if (!family.ok()) return family.status();
  client->family_ = *family;
  client->idle_.push_back(std::move(fd).value());
  return client;
}

StatusOr<std::string_view> TaskstatsClient::RoundTrip(int fd, uint16_t type, uint8_t cmd,
                                                      uint16_t attr, std::string_view value,
                                                      char* buf, size_t size) {
  struct {
    struct nlmsghdr n;
    struct genlmsghdr g;
    char attrs[64];
  } req;
  if (NLA_HDRLEN + value.size() > sizeof(req.attrs)) return InternalError("attribute too large");
  std::memset(&req, 0, sizeof(req));
  const uint32_t seq = ++seq_;
  struct nlattr na = {.nla_len = static_cast<uint16_t>(NLA_HDRLEN + value.size()),
                      .nla_type = attr};
  std::memcpy(req.attrs, &na, sizeof(na));
  std::memcpy(req.attrs + NLA_HDRLEN, value.data(), value.size());
  req.n.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(na.nla_len);
  req.n.nlmsg_type = type;
  req.n.nlmsg_flags = NLM_F_REQUEST;
  req.n.nlmsg_seq = seq;
  req.g.cmd = cmd;
  req.g.version = 1;
  struct sockaddr_nl kernel;
  std::memset(&kernel, 0, sizeof(kernel));
  kernel.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
  if (::sendto(fd, &req, req.n.nlmsg_len, 0, reinterpret_cast<struct sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
    return ErrnoError(errno, "netlink send");
  }
  for (int i = 0; i <= kMaxStaleReplies; ++i) {
    const ssize_t n = ::recv(fd, buf, size, MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "netlink receive");
    }
    if (static_cast<size_t>(n) > size) return TooLargeError("netlink reply truncated");
    const std::string_view msg(buf, static_cast<size_t>(n));
    uint32_t got = 0;
    StatusOr<std::string_view> payload = Payload(msg, &got);
    if (got != seq) continue;  // a late reply to an earlier query
    if (!payload.ok()) return payload.status();
    return msg;
  }
  return IoError("no netlink reply with the query's sequence number");
}

UniqueFd TaskstatsClient::TakeSocket(Status* error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      UniqueFd fd = std::move(idle_.back());
      idle_.pop_back();
      return fd;
    }
  }
  StatusOr<UniqueFd> opened = NewSocket();
  if (!opened.ok()) {
    *error = opened.status();
    return UniqueFd();
  }
  return std::move(opened).value();
}

void TaskstatsClient::ReturnSocket(UniqueFd fd) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(fd));
}

StatusOr<TaskContextSwitches> TaskstatsClient::Query(int64_t tgid) {
  return std::move(QueryMany({tgid}).front());
}

std::vector<StatusOr<TaskContextSwitches>> TaskstatsClient::QueryMany(
    const std::vector<int64_t>& tgids) {
  std::vector<StatusOr<TaskContextSwitches>> out(tgids.size(), InternalError("not asked"));
  Status error;
  UniqueFd fd = TakeSocket(&error);
  if (!fd.valid()) {
    std::fill(out.begin(), out.end(), error);
    return out;
  }
  // Bad tgids are answered here; the rest go to the kernel in batches.
  std::vector<int64_t> valid;
  std::vector<size_t> where;
  for (size_t i = 0; i < tgids.size(); ++i) {
    if (tgids[i] <= 0 || tgids[i] > INT32_MAX) {
      out[i] = InvalidError("bad tgid " + std::to_string(tgids[i]));
    } else {
      valid.push_back(tgids[i]);
      where.push_back(i);
    }
  }
  std::vector<StatusOr<TaskContextSwitches>> got(valid.size(), InternalError("not asked"));
  for (size_t start = 0; start < valid.size(); start += kMaxBatch) {
    const size_t n = std::min(kMaxBatch, valid.size() - start);
    Batch(fd.get(), valid.data() + start, n, got.data() + start);
  }
  for (size_t k = 0; k < valid.size(); ++k) out[where[k]] = std::move(got[k]);
  ReturnSocket(std::move(fd));
  return out;
}

void TaskstatsClient::Batch(int fd, const int64_t* tgids, size_t n,
                            StatusOr<TaskContextSwitches>* out) {
  // Requests: nlmsghdr + genlmsghdr + one u32 attribute each, back to back.
  constexpr size_t kRequestBytes =
      NLMSG_ALIGN(NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(NLA_HDRLEN + sizeof(uint32_t)));
  char requests[kMaxBatch * kRequestBytes];
  std::memset(requests, 0, sizeof(requests));
  const uint32_t first_seq = seq_.fetch_add(static_cast<uint32_t>(n)) + 1;
  for (size_t i = 0; i < n; ++i) {
    char* r = requests + i * kRequestBytes;
    struct nlmsghdr h = {};
    h.nlmsg_len = static_cast<uint32_t>(kRequestBytes);
    h.nlmsg_type = family_;
    h.nlmsg_flags = NLM_F_REQUEST;
    h.nlmsg_seq = first_seq + static_cast<uint32_t>(i);
    struct genlmsghdr g = {};
    g.cmd = TASKSTATS_CMD_GET;
    g.version = 1;
    struct nlattr na = {};
    na.nla_len = NLA_HDRLEN + sizeof(uint32_t);
    na.nla_type = TASKSTATS_CMD_ATTR_TGID;
    const uint32_t id = static_cast<uint32_t>(tgids[i]);
    std::memcpy(r, &h, sizeof(h));
    std::memcpy(r + NLMSG_HDRLEN, &g, sizeof(g));
    std::memcpy(r + NLMSG_HDRLEN + GENL_HDRLEN, &na, sizeof(na));
    std::memcpy(r + NLMSG_HDRLEN + GENL_HDRLEN + NLA_HDRLEN, &id, sizeof(id));
  }
  struct sockaddr_nl kernel;
  std::memset(&kernel, 0, sizeof(kernel));
  kernel.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
  if (::sendto(fd, requests, n * kRequestBytes, 0, reinterpret_cast<struct sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
    const Status s = ErrnoError(errno, "netlink send");
    for (size_t i = 0; i < n; ++i) out[i] = s;
    return;
  }
  // Each reply is its own datagram, matched to its request by sequence
  // number; replies of an earlier, abandoned batch are skipped.
  std::vector<char> bufs(n * kReplyBytes);
  std::vector<struct iovec> iov(n);
  std::vector<struct mmsghdr> msgs(n);
  std::vector<bool> answered(n, false);
  size_t left = n;
  for (size_t round = 0; left > 0 && round <= n + kMaxStaleReplies; ++round) {
    for (size_t i = 0; i < n; ++i) {
      iov[i] = {bufs.data() + i * kReplyBytes, kReplyBytes};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int got =
        ::recvmmsg(fd, msgs.data(), static_cast<unsigned>(left), MSG_WAITFORONE, nullptr);
    if (got < 0) {
      if (errno == EINTR) continue;
      const Status s = ErrnoError(errno, "netlink receive");
      for (size_t i = 0; i < n; ++i) {
        if (!answered[i]) out[i] = s;
      }
      return;
    }
    for (int m = 0; m < got; ++m) {
      if (msgs[m].msg_hdr.msg_flags & MSG_TRUNC) continue;
      const std::string_view msg(bufs.data() + m * kReplyBytes, msgs[m].msg_len);
      uint32_t seq = 0;
      (void)Payload(msg, &seq);
      if (seq < first_seq || seq - first_seq >= n) continue;  // a stale reply
      const size_t i = seq - first_seq;
      if (answered[i]) continue;
      out[i] = ParseTaskstatsReply(msg, tgids[i]);
      answered[i] = true;
      --left;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!answered[i]) out[i] = IoError("no netlink reply for tgid " + std::to_string(tgids[i]));
  }
}

Status ProbeTaskstats() {
  StatusOr<std::unique_ptr<TaskstatsClient>> client = TaskstatsClient::Open();
  if (!client.ok()) return client.status();
  StatusOr<TaskContextSwitches> self = (*client)->Query(::getpid());
  return self.ok() ? Status::Ok() : self.status();
}

}  // namespace gvisor_exporter
