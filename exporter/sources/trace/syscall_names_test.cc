#include "exporter/sources/trace/syscall_names.h"

#include <errno.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>

namespace gvisor_exporter {
namespace {

TEST(SyscallNames, X86With64BitsMatchesLinuxNumbers) {
  EXPECT_EQ(SyscallName(Arch::kX86_64, 0), "read");
  EXPECT_EQ(SyscallName(Arch::kX86_64, 110), "getppid");
  EXPECT_EQ(SyscallName(Arch::kX86_64, 134), "uselib");
  EXPECT_EQ(SyscallName(Arch::kX86_64, 257), "openat");
  EXPECT_EQ(SyscallName(Arch::kX86_64, 435), "clone3");
  // The last number gVisor 20221219 has a point for.
  EXPECT_EQ(SyscallName(Arch::kX86_64, 441), "epoll_pwait2");
}

TEST(SyscallNames, Arm64UsesTheGenericTable) {
  EXPECT_EQ(SyscallName(Arch::kArm64, 63), "read");
  EXPECT_EQ(SyscallName(Arch::kArm64, 173), "getppid");
  EXPECT_EQ(SyscallName(Arch::kArm64, 56), "openat");
  EXPECT_EQ(SyscallName(Arch::kArm64, 25), "fcntl");  // __NR3264_fcntl, not fcntl64
  EXPECT_EQ(SyscallName(Arch::kArm64, 79), "newfstatat");
  EXPECT_EQ(SyscallName(Arch::kArm64, 435), "clone3");
}

TEST(SyscallNames, HostTableAgreesWithLibc) {
#if defined(__x86_64__)
  EXPECT_EQ(SyscallName(HostArch(), SYS_getppid), "getppid");
  EXPECT_EQ(SyscallName(HostArch(), SYS_exit_group), "exit_group");
#endif
}

TEST(SyscallNames, HolesAndOutOfRangeGetANumberedLabel) {
  EXPECT_EQ(SyscallName(Arch::kX86_64, 400), "");  // hole between 334 and 424
  EXPECT_EQ(SyscallLabel(Arch::kX86_64, 400), "sys_400");
  EXPECT_EQ(SyscallLabel(Arch::kX86_64, ~0ull), "sys_18446744073709551615");
  EXPECT_EQ(SyscallLabel(Arch::kArm64, 5000), "sys_5000");
  EXPECT_GE(SyscallTableSize(Arch::kX86_64), 442u);
}

TEST(ErrnoNames, KnownAndUnknown) {
  EXPECT_EQ(ErrnoName(ENOSYS), "ENOSYS");
  EXPECT_EQ(ErrnoName(ENOENT), "ENOENT");
  EXPECT_EQ(ErrnoName(EAGAIN), "EAGAIN");  // not EWOULDBLOCK
  EXPECT_EQ(ErrnoName(0), "");
  EXPECT_EQ(ErrnoName(-1), "");
  EXPECT_EQ(ErrnoLabel(4096), "E4096");
  EXPECT_EQ(ErrnoLabel(-5), "E-5");
}

}  // namespace
}  // namespace gvisor_exporter
