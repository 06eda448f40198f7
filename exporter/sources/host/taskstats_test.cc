#include "exporter/sources/host/taskstats.h"

#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "exporter/sources/host/procfs.h"

namespace gvisor_exporter {
namespace {

// A reply as the kernel builds it: nlmsghdr, genlmsghdr, then `attrs`.
std::string Message(uint16_t type, uint32_t seq, const std::string& attrs) {
  std::string out(NLMSG_HDRLEN + GENL_HDRLEN, '\0');
  struct nlmsghdr n = {};
  n.nlmsg_len = static_cast<uint32_t>(out.size() + attrs.size());
  n.nlmsg_type = type;
  n.nlmsg_seq = seq;
  std::memcpy(out.data(), &n, sizeof(n));
  return out + attrs;
}

std::string Attr(uint16_t type, const std::string& value) {
  struct nlattr a = {.nla_len = static_cast<uint16_t>(NLA_HDRLEN + value.size()), .nla_type = type};
  std::string out(reinterpret_cast<const char*>(&a), sizeof(a));
  out += value;
  out.resize(NLA_ALIGN(out.size()), '\0');
  return out;
}

template <typename T>
std::string Bytes(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(v));
}

std::string TgidReply(uint32_t tgid, uint64_t nvcsw, uint64_t nivcsw, size_t stats_size) {
  struct taskstats ts = {};
  ts.nvcsw = nvcsw;
  ts.nivcsw = nivcsw;
  std::string stats = Bytes(ts);
  stats.resize(stats_size, '\0');
  const std::string inner =
      Attr(TASKSTATS_TYPE_TGID, Bytes(tgid)) + Attr(TASKSTATS_TYPE_STATS, stats);
  return Message(20, 1, Attr(TASKSTATS_TYPE_AGGR_TGID, inner));
}

TEST(ParseTaskstatsReplyTest, ReadsTheAggregatedCounters) {
  StatusOr<TaskContextSwitches> got =
      ParseTaskstatsReply(TgidReply(42, 692, 17, sizeof(taskstats)), 42);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->voluntary, 692u);
  EXPECT_EQ(got->nonvoluntary, 17u);
}

TEST(ParseTaskstatsReplyTest, AnOlderShorterStructStillCarryingTheCountersIsRead) {
  const size_t end = offsetof(struct taskstats, nivcsw) + sizeof(uint64_t);
  StatusOr<TaskContextSwitches> got = ParseTaskstatsReply(TgidReply(42, 5, 6, end), 42);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->voluntary, 5u);
  EXPECT_EQ(got->nonvoluntary, 6u);
}

TEST(ParseTaskstatsReplyTest, RejectsWhatIsNotTheAnswer) {
  const size_t end = offsetof(struct taskstats, nivcsw) + sizeof(uint64_t);
  EXPECT_EQ(ParseTaskstatsReply(TgidReply(42, 5, 6, end - 1), 42).status().reason(),
            Reason::kParse);
  EXPECT_EQ(ParseTaskstatsReply(TgidReply(43, 5, 6, sizeof(taskstats)), 42).status().reason(),
            Reason::kParse);
  EXPECT_EQ(ParseTaskstatsReply(Message(20, 1, ""), 42).status().reason(), Reason::kParse);
  EXPECT_EQ(ParseTaskstatsReply("", 42).status().reason(), Reason::kParse);
  std::string lying = TgidReply(42, 5, 6, sizeof(taskstats));
  lying[0] = static_cast<char>(0xff);  // nlmsg_len beyond the buffer
  EXPECT_EQ(ParseTaskstatsReply(lying, 42).status().reason(), Reason::kParse);
}

TEST(ParseTaskstatsReplyTest, NetlinkErrorsKeepTheirErrno) {
  const int esrch = -ESRCH, eperm = -EPERM;
  std::string gone(NLMSG_HDRLEN, '\0');
  struct nlmsghdr n = {};
  n.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + sizeof(int));
  n.nlmsg_type = NLMSG_ERROR;
  std::memcpy(gone.data(), &n, sizeof(n));
  EXPECT_EQ(ParseTaskstatsReply(gone + Bytes(esrch), 42).status().reason(), Reason::kNotFound);
  EXPECT_EQ(ParseTaskstatsReply(gone + Bytes(eperm), 42).status().reason(), Reason::kPermission);
  // Not an errno (found by taskstats_fuzz: negating INT_MIN overflowed).
  const int int_min = INT32_MIN, positive = 5;
  EXPECT_EQ(ParseTaskstatsReply(gone + Bytes(int_min), 42).status().reason(), Reason::kParse);
  EXPECT_EQ(ParseTaskstatsReply(gone + Bytes(positive), 42).status().reason(), Reason::kParse);
}

TEST(ParseFamilyReplyTest, FindsTheFamilyId) {
  const uint16_t id = 27;
  StatusOr<uint16_t> got = ParseFamilyReply(
      Message(GENL_ID_CTRL, 1,
              Attr(CTRL_ATTR_FAMILY_NAME, "TASKSTATS") + Attr(CTRL_ATTR_FAMILY_ID, Bytes(id))));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, 27);
  EXPECT_FALSE(ParseFamilyReply(Message(GENL_ID_CTRL, 1, "")).ok());
}

// Ground truth: the per-thread status files of this very process.
TaskContextSwitches SumOverThreads() {
  TaskContextSwitches sum;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(entry.path() / "status");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    StatusOr<ProcStatus> st = ParseProcStatus(text);
    if (!st.ok() || !st->voluntary_ctxt_switches) continue;  // thread just exited
    sum.voluntary += *st->voluntary_ctxt_switches;
    sum.nonvoluntary += st->nonvoluntary_ctxt_switches.value_or(0);
  }
  return sum;
}

// Every thread this process ever had: the upper bound of a TGID answer (the
// lower bound is the live threads' sum; kernels differ in counting threads
// that exited, see taskstats.h).
TaskContextSwitches OwnLifetimeTotal() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return {static_cast<uint64_t>(ru.ru_nvcsw), static_cast<uint64_t>(ru.ru_nivcsw)};
}

// Needs CAP_NET_ADMIN (root in CI); skipped otherwise.
TEST(TaskstatsClientTest, SumsTheContextSwitchesOfEveryLiveThread) {
  StatusOr<std::unique_ptr<TaskstatsClient>> client = TaskstatsClient::Open();
  if (!client.ok()) GTEST_SKIP() << client.status().ToString();
  // Threads that each switch voluntarily many times, then park.
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&stop] {
      for (int j = 0; j < 200; ++j) ::usleep(50);
      while (!stop.load()) ::usleep(1000);
    });
  }
  ::usleep(100000);
  const TaskContextSwitches before = SumOverThreads();
  StatusOr<TaskContextSwitches> got = (*client)->Query(::getpid());
  const TaskContextSwitches after = OwnLifetimeTotal();
  stop = true;
  for (auto& t : threads) t.join();
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_GE(got->voluntary, before.voluntary);
  EXPECT_LE(got->voluntary, after.voluntary);
  EXPECT_GE(got->voluntary, 800u);  // the threads' own usleep()s
  EXPECT_GE(got->nonvoluntary, before.nonvoluntary);
  EXPECT_LE(got->nonvoluntary, after.nonvoluntary);
}

TEST(TaskstatsClientTest, AGoneProcessIsNotFound) {
  StatusOr<std::unique_ptr<TaskstatsClient>> client = TaskstatsClient::Open();
  if (!client.ok()) GTEST_SKIP() << client.status().ToString();
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ((*client)->Query(child).status().reason(), Reason::kNotFound);
  EXPECT_EQ((*client)->Query(0).status().reason(), Reason::kInvalid);
  // The socket still answers after errors.
  EXPECT_TRUE((*client)->Query(::getpid()).ok());
}

TEST(TaskstatsClientTest, ManyQueriesInBatchesAnswerEachInOrder) {
  StatusOr<std::unique_ptr<TaskstatsClient>> client = TaskstatsClient::Open();
  if (!client.ok()) GTEST_SKIP() << client.status().ToString();
  const pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  ASSERT_GT(gone, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(gone, &status, 0), gone);
  // More than one batch; a gone process and a bad id in the middle.
  std::vector<int64_t> tgids(2 * TaskstatsClient::kMaxBatch + 3, ::getpid());
  tgids[5] = gone;
  tgids[TaskstatsClient::kMaxBatch] = -1;
  tgids.back() = 1;  // init: another process, other counters
  const TaskContextSwitches before = SumOverThreads();
  std::vector<StatusOr<TaskContextSwitches>> got = (*client)->QueryMany(tgids);
  const TaskContextSwitches after = OwnLifetimeTotal();
  ASSERT_EQ(got.size(), tgids.size());
  for (size_t i = 0; i + 1 < tgids.size(); ++i) {
    if (i == 5) {
      EXPECT_EQ(got[i].status().reason(), Reason::kNotFound);
    } else if (i == TaskstatsClient::kMaxBatch) {
      EXPECT_EQ(got[i].status().reason(), Reason::kInvalid);
    } else {
      ASSERT_TRUE(got[i].ok()) << i << ": " << got[i].status().ToString();
      EXPECT_GE(got[i]->voluntary, before.voluntary) << i;
      EXPECT_LE(got[i]->voluntary, after.voluntary) << i;
    }
  }
  StatusOr<TaskContextSwitches> init = (*client)->Query(1);
  ASSERT_TRUE(got.back().ok()) << got.back().status().ToString();
  ASSERT_TRUE(init.ok());
  EXPECT_LE(got.back()->voluntary, init->voluntary);
}

}  // namespace
}  // namespace gvisor_exporter
