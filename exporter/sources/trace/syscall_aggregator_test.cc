#include "exporter/sources/trace/syscall_aggregator.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace gvisor_exporter {
namespace {

TraceEvent Enter(uint64_t sysno, std::string_view ctr, uint32_t dropped = 0) {
  TraceEvent ev;
  ev.kind = TraceEvent::Kind::kSyscallEnter;
  ev.sysno = sysno;
  ev.container_id = ctr;
  ev.dropped_count = dropped;
  return ev;
}

TraceEvent Exit(uint64_t sysno, std::string_view ctr, int64_t err) {
  TraceEvent ev = Enter(sysno, ctr);
  ev.kind = TraceEvent::Kind::kSyscallExit;
  ev.errorno = err;
  return ev;
}

uint64_t Count(const ContainerSyscalls& c, const std::string& sys) {
  for (const auto& [name, n] : c.calls) {
    if (name == sys) return n;
  }
  return 0;
}

TEST(SyscallAggregator, CountsByContainerAndName) {
  SyscallAggregator agg(Arch::kX86_64, {});
  for (int i = 0; i < 5; ++i) agg.Add(Enter(110, "app"));
  agg.Add(Enter(0, "app"));
  agg.Add(Enter(110, "sidecar"));
  auto cs = agg.Containers();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].container_id, "app");
  EXPECT_EQ(Count(cs[0], "getppid"), 5u);
  EXPECT_EQ(Count(cs[0], "read"), 1u);
  EXPECT_EQ(Count(cs[1], "getppid"), 1u);
}

TEST(SyscallAggregator, ErrorsAndUnimplemented) {
  SyscallAggregator agg(Arch::kX86_64, {});
  agg.Add(Exit(300, "app", 38));  // fanotify_init ENOSYS
  agg.Add(Exit(2, "app", 2));     // open ENOENT
  agg.Add(Exit(2, "app", 2));
  agg.Add(Exit(2, "app", 0));  // success: no error series
  auto cs = agg.Containers();
  ASSERT_EQ(cs.size(), 1u);
  ASSERT_EQ(cs[0].errors.size(), 2u);
  EXPECT_EQ(cs[0].errors[0].syscall, "open");
  EXPECT_EQ(cs[0].errors[0].errno_name, "ENOENT");
  EXPECT_EQ(cs[0].errors[0].count, 2u);
  ASSERT_EQ(cs[0].unimplemented.size(), 1u);
  EXPECT_EQ(cs[0].unimplemented[0], (std::pair<std::string, uint64_t>{"fanotify_init", 1}));
  EXPECT_TRUE(cs[0].calls.empty());  // exits are not calls
}

TEST(SyscallAggregator, SeriesAreStickyAndBounded) {
  SyscallLimits limits;
  limits.max_syscalls = 2;
  SyscallAggregator agg(Arch::kX86_64, limits);
  agg.Add(Enter(1, "a"));
  agg.Add(Enter(2, "a"));
  agg.Add(Enter(3, "a"));  // beyond the limit
  agg.Add(Enter(3, "a"));
  agg.Add(Enter(1, "a"));  // admitted earlier: still its own series
  auto cs = agg.Containers();
  ASSERT_EQ(cs[0].calls.size(), 3u);
  EXPECT_EQ(Count(cs[0], "write"), 2u);
  EXPECT_EQ(Count(cs[0], "open"), 1u);
  EXPECT_EQ(Count(cs[0], "other"), 2u);
  EXPECT_EQ(Count(cs[0], "close"), 0u);
}

TEST(SyscallAggregator, ErrorSeriesBounded) {
  SyscallLimits limits;
  limits.max_errors = 1;
  SyscallAggregator agg(Arch::kX86_64, limits);
  agg.Add(Exit(2, "a", 2));
  agg.Add(Exit(2, "a", 13));
  agg.Add(Exit(3, "a", 9));
  auto cs = agg.Containers();
  ASSERT_EQ(cs[0].errors.size(), 2u);
  EXPECT_EQ(cs[0].errors[1].syscall, "other");
  EXPECT_EQ(cs[0].errors[1].count, 2u);
}

TEST(SyscallAggregator, ContainersBoundedAndIdsValidated) {
  SyscallLimits limits;
  limits.max_containers = 2;
  SyscallAggregator agg(Arch::kX86_64, limits);
  agg.Add(Enter(1, "a"));
  agg.Add(Enter(1, "b"));
  agg.Add(Enter(1, "c"));          // over the limit: "" bucket
  agg.Add(Enter(1, "../../etc"));  // invalid id: "" bucket
  auto ids = agg.container_ids();
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"", "a", "b"}));
  auto cs = agg.Containers();
  EXPECT_EQ(cs[0].container_id, "");
  EXPECT_EQ(Count(cs[0], "write"), 2u);
}

TEST(SyscallAggregator, InvalidSysnoIsNotCounted) {
  SyscallAggregator agg(Arch::kX86_64, {});
  EXPECT_EQ(agg.Add(Enter(kMaxTracedSysno, "a")), SyscallAggregator::AddResult::kInvalidSysno);
  EXPECT_EQ(agg.Add(Enter(~0ull, "a")), SyscallAggregator::AddResult::kInvalidSysno);
  EXPECT_TRUE(agg.Containers().empty());
}

TEST(SyscallAggregator, DroppedCountUnwrapsAcross2To32) {
  SyscallAggregator agg(Arch::kX86_64, {});
  agg.Add(Enter(1, "a", 5));  // drops before the first packet count too
  EXPECT_EQ(agg.dropped(), 5u);
  agg.Add(Enter(1, "a", 0xFFFFFFF0u));
  EXPECT_EQ(agg.dropped(), 0xFFFFFFF0u);
  agg.Add(Enter(1, "a", 0x10u));  // wrapped
  EXPECT_EQ(agg.dropped(), 0x100000010ull);
  // The session's own (64-bit) count wins when larger.
  agg.ObserveSessionDrops(0x200000000ull);
  EXPECT_EQ(agg.dropped(), 0x200000000ull);
  agg.ObserveSessionDrops(1);  // never goes backwards
  EXPECT_EQ(agg.dropped(), 0x200000000ull);
}

TEST(SyscallAggregator, CountsAndDropsContinueOverANewSession) {
  SyscallAggregator agg(Arch::kX86_64, {});
  agg.Add(Enter(110, "app", 7));
  agg.ObserveSessionDrops(9);
  EXPECT_EQ(agg.dropped(), 9u);
  // Sampling: the next window's session numbers its drops from 0 again.
  agg.BeginSession();
  agg.Add(Enter(110, "app", 2));  // not a wrap of the old session's 7
  EXPECT_EQ(agg.dropped(), 11u);
  agg.ObserveSessionDrops(1);  // the new session's own count, below its header's
  EXPECT_EQ(agg.dropped(), 11u);
  agg.ObserveSessionDrops(4);
  EXPECT_EQ(agg.dropped(), 13u);
  auto cs = agg.Containers();
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(Count(cs[0], "getppid"), 2u);
}

TEST(SyscallAggregator, ForgetsContainersThatWereLiveAndLeft) {
  SyscallAggregator agg(Arch::kX86_64, {});
  agg.Add(Enter(1, "old"));
  agg.Add(Enter(1, "new"));
  agg.RetainContainers({"old"});  // "new" not discovered yet: kept
  EXPECT_EQ(agg.container_ids().size(), 2u);
  agg.RetainContainers({"new"});  // "old" was live and is gone: forgotten
  EXPECT_EQ(agg.container_ids(), std::vector<std::string>{"new"});
  agg.Add(Enter(1, "new"));  // the cache was reset with the erase
  EXPECT_EQ(Count(agg.Containers()[0], "write"), 2u);
}

TEST(SyscallAggregator, Arm64Names) {
  SyscallAggregator agg(Arch::kArm64, {});
  agg.Add(Enter(173, "a"));
  EXPECT_EQ(Count(agg.Containers()[0], "getppid"), 1u);
}

}  // namespace
}  // namespace gvisor_exporter
