// Test-only: counts this process's open file descriptors, to catch leaks.
#pragma once

#include <dirent.h>

namespace gvisor_exporter::testing {

// Open fds of this process, not counting the one used to list them.
inline int CountOpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1;
}

}  // namespace gvisor_exporter::testing
