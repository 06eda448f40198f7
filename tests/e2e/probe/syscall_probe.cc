// A static test program run inside gVisor sandboxes by the syscall e2e tests.
// It makes an exact, known number of syscalls so the exporter's counters can
// be checked against it:
//   syscall_probe getppid N [B]  N x getppid(2), then prints {"getppid":N,"seconds":T};
//                             with B, pauses 2 ms (nanosleep) after every B calls
//                             (a less bursty workload)
//   syscall_probe enosys      one fanotify_init(2), which gVisor does not implement
//                             (ENOSYS); prints {"fanotify_init_errno":E}
// Raw syscall(2) calls only, so libc adds none of its own; statically linked
// so it runs in any rootfs.
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no syscall event
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if ((argc == 3 || argc == 4) && std::strcmp(argv[1], "getppid") == 0) {
    const long n = std::strtol(argv[2], nullptr, 10);
    const long burst = argc == 4 ? std::strtol(argv[3], nullptr, 10) : 0;
    const timespec pause{0, 2'000'000};
    const double t0 = Now();
    for (long i = 0; i < n; ++i) {
      syscall(SYS_getppid);
      if (burst > 0 && (i + 1) % burst == 0) nanosleep(&pause, nullptr);
    }
    const double t1 = Now();
    std::printf("{\"getppid\":%ld,\"seconds\":%.6f}\n", n, t1 - t0);
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "enosys") == 0) {
    const long rc = syscall(SYS_fanotify_init, 0, 0);
    std::printf("{\"fanotify_init_rc\":%ld,\"fanotify_init_errno\":%d}\n", rc, rc < 0 ? errno : 0);
    return 0;
  }
  std::fprintf(stderr, "usage: syscall_probe getppid N [B] | syscall_probe enosys\n");
  return 2;
}
