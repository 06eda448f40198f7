#include "exporter/sources/trace/syscall_names.h"

#include <array>

namespace gvisor_exporter {

namespace {
#include "exporter/sources/trace/syscall_tables.inc"
}  // namespace

Arch HostArch() {
#if defined(__aarch64__)
  return Arch::kArm64;
#else
  return Arch::kX86_64;
#endif
}

std::string_view SyscallName(Arch arch, uint64_t sysno) {
  if (arch == Arch::kArm64) return sysno < kArm64Syscalls.size() ? kArm64Syscalls[sysno] : "";
  return sysno < kX86_64Syscalls.size() ? kX86_64Syscalls[sysno] : "";
}

std::string SyscallLabel(Arch arch, uint64_t sysno) {
  std::string_view name = SyscallName(arch, sysno);
  if (!name.empty()) return std::string(name);
  return "sys_" + std::to_string(sysno);
}

uint64_t SyscallTableSize(Arch arch) {
  return arch == Arch::kArm64 ? kArm64Syscalls.size() : kX86_64Syscalls.size();
}

std::string_view ErrnoName(int64_t err) {
  if (err <= 0 || static_cast<uint64_t>(err) >= kErrnoNames.size()) return "";
  return kErrnoNames[err];
}

std::string ErrnoLabel(int64_t err) {
  std::string_view name = ErrnoName(err);
  if (!name.empty()) return std::string(name);
  return "E" + std::to_string(err);
}

}  // namespace gvisor_exporter
