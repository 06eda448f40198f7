// Test-only (header, so never in the library): the opener the KeptFiles
// tests use, shared by kept_files_test.cc and kept_files_real_test.cc.
#pragma once

#include <fcntl.h>

#include <cerrno>
#include <string>

#include "exporter/common/kept_files.h"

namespace gvisor_exporter::testing {

// Opens `path` read-only each time the kept file needs (re)opening.
inline KeptFiles::Opener OpenPath(const std::string& path) {
  return [path]() -> StatusOr<UniqueFd> {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, "open " + path);
    return UniqueFd(fd);
  };
}

}  // namespace gvisor_exporter::testing
