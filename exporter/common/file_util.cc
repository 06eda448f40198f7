#include "exporter/common/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string_view>

namespace gvisor_exporter {

StatusOr<std::string> ReadFdBounded(UniqueFd fd, const std::string& what, size_t max_bytes) {
  std::string out;
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(errno, "read " + what);
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return TooLargeError(what + " exceeds " + std::to_string(max_bytes) + " bytes");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes, bool no_follow) {
  int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  if (no_follow) flags |= O_NOFOLLOW;
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return ErrnoError(errno, "open " + path);
  return ReadFdBounded(UniqueFd(fd), path, max_bytes);
}

StatusOr<std::string> ReadFileAtBounded(int dir_fd, const std::string& name, size_t max_bytes) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return InvalidError("file name must be a single path component: " + name);
  }
  int fd =
      ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return ErrnoError(errno, "open " + name);
  return ReadFdBounded(UniqueFd(fd), name, max_bytes);
}

StatusOr<UniqueFd> OpenDir(const std::string& path, NotADirectory not_dir) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOTDIR && not_dir == NotADirectory::kInvalid) {
    return InvalidError(path + " is not a directory");
  }
  if (fd < 0) return ErrnoError(errno, "open " + path);
  return UniqueFd(fd);
}

bool ParseUint64(std::string_view s, uint64_t* out) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace gvisor_exporter
