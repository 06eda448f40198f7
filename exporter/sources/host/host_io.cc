#include "exporter/sources/host/host_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "exporter/common/file_util.h"

namespace gvisor_exporter::host_io {

StatusOr<UniqueFd> OpenDirBeneath(int dir_fd, std::string_view rel) {
  if (!rel.empty() && rel.front() == '/') return InvalidError("path must be relative");
  UniqueFd current(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (!current.valid()) return ErrnoError(errno, "dup");
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) slash = rel.size();
    const std::string comp(rel.substr(start, slash - start));
    start = slash + 1;
    if (comp.empty()) continue;  // "a//b"
    if (comp == "." || comp == "..") return InvalidError("path has a . or .. component");
    int fd = ::openat(current.get(), comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      // O_NOFOLLOW|O_DIRECTORY on a symlink fails with ELOOP or ENOTDIR: tell
      // a planted symlink (an attack, or a mistake: never followed) from a
      // plain file.
      struct stat st {};
      if ((err == ELOOP || err == ENOTDIR) &&
          ::fstatat(current.get(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        return InvalidError("symlink in path: " + comp);
      }
      return ErrnoError(err, "open " + comp);
    }
    current = UniqueFd(fd);
  }
  return current;
}

StatusOr<std::string> ReadAt(int dir_fd, const std::string& rel, size_t max_bytes) {
  int fd = ::openat(dir_fd, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return ErrnoError(errno, "open " + rel);
  return ReadFdBounded(UniqueFd(fd), rel, max_bytes);
}

StatusOr<std::vector<int64_t>> ListNumericEntries(int dir_fd, const std::string& rel,
                                                  size_t max_entries) {
  int fd = ::openat(dir_fd, rel.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open " + rel);
  DIR* dir = ::fdopendir(fd);  // takes ownership of fd
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return ErrnoError(err, "fdopendir " + rel);
  }
  std::vector<int64_t> out;
  errno = 0;
  while (const dirent* e = ::readdir(dir)) {
    int64_t id = 0;
    if (!ParsePid(e->d_name, &id)) continue;
    if (out.size() >= max_entries) break;
    out.push_back(id);
  }
  int err = errno;
  ::closedir(dir);
  // A directory of a process that exits mid-listing reports ENOENT/ESRCH.
  if (err != 0) return ErrnoError(err, "readdir " + rel);
  return out;
}

bool ParsePid(std::string_view s, int64_t* pid) {
  if (s.empty() || s.size() > 19 || s.front() < '1' || s.front() > '9') return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *pid);
  return ec == std::errc() && p == s.data() + s.size() && *pid > 0;
}

std::vector<int64_t> ParsePidList(std::string_view text) {
  std::vector<int64_t> out;
  while (!text.empty()) {
    const size_t sp = text.find_first_of(" \n");
    int64_t pid = 0;
    if (ParsePid(text.substr(0, sp), &pid)) out.push_back(pid);
    if (sp == std::string_view::npos) break;
    text.remove_prefix(sp + 1);
  }
  return out;
}

}  // namespace gvisor_exporter::host_io
