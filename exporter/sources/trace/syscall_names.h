// Syscall and errno names for metric labels.
//
// gVisor's raw syscall points carry only the number; the label is the Linux
// name for the sandbox's architecture (the sentry runs the host's), so the
// series stay readable and stable across runsc releases. Tables are generated
// from the Linux UAPI headers (tools/gen_syscall_tables.py).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gvisor_exporter {

enum class Arch { kX86_64, kArm64 };

// The architecture this exporter was built for (= the sandboxes' on this node).
Arch HostArch();

// Linux name of `sysno` on `arch`, e.g. "getppid"; "" for numbers with no
// syscall (holes in the table, out of range).
std::string_view SyscallName(Arch arch, uint64_t sysno);

// A label value for any sysno: the name, or "sys_<N>" for unnamed numbers
// (bounded: the sentry only has points for N < 512).
std::string SyscallLabel(Arch arch, uint64_t sysno);

// Size of the syscall table of `arch` (numbers 0 .. size-1).
uint64_t SyscallTableSize(Arch arch);

// "ENOENT" for 2, ...; "" for numbers that are not Linux errnos.
std::string_view ErrnoName(int64_t err);

// A label value for any errno: the name, or "E<N>" for unknown numbers.
std::string ErrnoLabel(int64_t err);

}  // namespace gvisor_exporter
