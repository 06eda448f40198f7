#include "exporter/sources/host/taskstats.h"

#include <gtest/gtest.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>

#include <cerrno>
#include <cstring>
#include <string>

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

}  // namespace
}  // namespace gvisor_exporter
