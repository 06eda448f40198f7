// A whole process's context switches in one query: Linux taskstats over
// generic netlink (TASKSTATS_CMD_GET with TASKSTATS_CMD_ATTR_TGID).
//
// Why: /proc has context switches only per thread (task/<tid>/status), so a
// sentry with ~13 threads cost ~40 system calls per poll for two numbers. A
// TGID query is one sendmsg + one recvmsg (~5 us) and the kernel sums nvcsw
// and nivcsw over the process's threads (fill_stats_for_tgid): the live ones
// (= the sum over task/*/status), plus, on kernels with "taskstats: retain
// dead thread stats in TGID queries" (6.18 here), those that exited, like
// getrusage(RUSAGE_SELF) does for the caller. CPU times come from
// /proc/<pid>/stat, not from here.
//
// The command needs CAP_NET_ADMIN (GENL_ADMIN_PERM). Without it, or on a
// kernel without CONFIG_TASKSTATS, Open() or the first Query() fails and the
// caller falls back to /proc.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/common/unique_fd.h"

namespace gvisor_exporter {

struct TaskContextSwitches {
  uint64_t voluntary = 0;
  uint64_t nonvoluntary = 0;
};

// Netlink sockets for the poll workers: a query takes an idle socket (or
// opens one) for its ~5 us round trip, so concurrent queries never wait on
// each other. At most as many sockets as queries ever ran at once.
class TaskstatsClient {
 public:
  // Opens the socket and resolves the "TASKSTATS" family. kPermission /
  // kNotFound / kIo when taskstats cannot be used.
  static StatusOr<std::unique_ptr<TaskstatsClient>> Open();

  // Context switches summed over the live threads of thread group `tgid`.
  // kNotFound when there is no such process (ESRCH), kPermission without
  // CAP_NET_ADMIN.
  StatusOr<TaskContextSwitches> Query(int64_t tgid);

  // Query for each of `tgids`, in order, with the requests of up to
  // kMaxBatch processes in one sendto and their replies taken by one
  // recvmmsg: two system calls per batch. The kernel answers each request
  // while sendto runs, so the replies are all queued when it returns.
  static constexpr size_t kMaxBatch = 16;  // ~16 x 2 KiB of the 208 KiB receive buffer
  std::vector<StatusOr<TaskContextSwitches>> QueryMany(const std::vector<int64_t>& tgids);

 private:
  explicit TaskstatsClient(uint16_t family) : family_(family) {}
  static StatusOr<UniqueFd> NewSocket();
  UniqueFd TakeSocket(Status* error);
  void ReturnSocket(UniqueFd fd);
  // One batch of QueryMany (tgids validated, at most kMaxBatch).
  void Batch(int fd, const int64_t* tgids, size_t n, StatusOr<TaskContextSwitches>* out);
  StatusOr<std::string_view> RoundTrip(int fd, uint16_t type, uint8_t cmd, uint16_t attr,
                                       std::string_view value, char* buf, size_t size);

  std::mutex mu_;               // guards idle_
  std::vector<UniqueFd> idle_;  // sockets not in a query
  uint16_t family_;
  std::atomic<uint32_t> seq_{0};
};

// Whether taskstats answers here: opens a client and asks about this very
// process (kPermission without CAP_NET_ADMIN).
Status ProbeTaskstats();

// Parsers of the kernel's replies, separate for the fuzz target. Both check
// every length against the buffer.
// CTRL_CMD_GETFAMILY reply -> CTRL_ATTR_FAMILY_ID.
StatusOr<uint16_t> ParseFamilyReply(std::string_view msg);
// TASKSTATS_CMD_NEW reply for `tgid` -> nvcsw/nivcsw of the aggregated stats.
// A netlink error message becomes its errno's Status.
StatusOr<TaskContextSwitches> ParseTaskstatsReply(std::string_view msg, int64_t tgid);

}  // namespace gvisor_exporter
