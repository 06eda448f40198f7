#include "exporter/doctor/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "exporter/common/file_util.h"
#include "exporter/common/unique_fd.h"

namespace gvisor_exporter::doctor {

namespace {

const char* FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

}  // namespace

StatusOr<std::string> ReadRegularFile(const std::string& path, size_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoError(errno, path);
  if (!S_ISREG(st.st_mode)) {
    return InvalidError(path + " is " + FileKind(st.st_mode) + ", not a regular file");
  }
  // O_NONBLOCK: should the path be swapped for a FIFO between stat and open,
  // the open still does not block; fstat below rejects it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return ErrnoError(errno, path);
  UniqueFd owned(fd);
  if (::fstat(fd, &st) != 0) return ErrnoError(errno, path);
  if (!S_ISREG(st.st_mode)) {
    return InvalidError(path + " is " + FileKind(st.st_mode) + ", not a regular file");
  }
  return ReadFdBounded(std::move(owned), path, max_bytes);
}

StatusOr<std::string> FindExecutable(const std::string& name, const char* path_env) {
  if (name.empty()) return InvalidError("empty program name");
  auto usable = [](const std::string& p) -> Status {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return ErrnoError(errno, p);
    if (!S_ISREG(st.st_mode)) return InvalidError(p + " is not a regular file");
    if (::access(p.c_str(), X_OK) != 0) return ErrnoError(errno, p + " is not executable");
    return Status::Ok();
  };
  if (name.find('/') != std::string::npos) {
    GVE_RETURN_IF_ERROR(usable(name));
    return name;
  }
  const char* env = path_env != nullptr ? path_env : std::getenv("PATH");
  const std::string_view dirs = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  Status last =
      NotFoundError(name + " not found in PATH (" + std::string(dirs.substr(0, 300)) + ")");
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string_view::npos) end = dirs.size();
    const std::string dir(dirs.substr(start, end - start));
    start = end + 1;
    if (dir.empty()) continue;  // "" would mean the current directory: never for a doctor
    const std::string candidate = dir + "/" + name;
    Status s = usable(candidate);
    if (s.ok()) return candidate;
    if (s.reason() != Reason::kNotFound) last = s;
  }
  return last;
}

}  // namespace gvisor_exporter::doctor
