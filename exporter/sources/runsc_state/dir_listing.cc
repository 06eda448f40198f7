#include "exporter/sources/runsc_state/dir_listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace gvisor_exporter {

namespace {

EntryType TypeFromMode(mode_t mode) {
  if (S_ISREG(mode)) return EntryType::kRegular;
  if (S_ISDIR(mode)) return EntryType::kDirectory;
  if (S_ISLNK(mode)) return EntryType::kSymlink;
  return EntryType::kOther;
}

EntryType EntryTypeOf(int dir_fd, const dirent* d) {
  switch (d->d_type) {
    case DT_REG:
      return EntryType::kRegular;
    case DT_DIR:
      return EntryType::kDirectory;
    case DT_LNK:
      return EntryType::kSymlink;
    case DT_UNKNOWN:
      break;
    default:
      return EntryType::kOther;
  }
  struct stat st;
  if (::fstatat(dir_fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return EntryType::kGone;
  return TypeFromMode(st.st_mode);
}

}  // namespace

StatusOr<std::vector<DirEntry>> ListDir(int dir_fd, size_t max_entries, bool* truncated) {
  *truncated = false;
  // fdopendir takes ownership of its fd, so give it a duplicate opened afresh
  // (a dup would share the read position with dir_fd).
  const int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "reopen directory");
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(fd);
    return ErrnoError(err, "fdopendir");
  }
  std::vector<DirEntry> entries;
  Status status;
  while (true) {
    errno = 0;
    const dirent* d = ::readdir(dir);
    if (d == nullptr) {
      if (errno != 0) status = ErrnoError(errno, "readdir");
      break;
    }
    const std::string_view name(d->d_name);
    if (name == "." || name == "..") continue;
    if (entries.size() >= max_entries) {
      *truncated = true;
      break;
    }
    entries.push_back({std::string(name), EntryTypeOf(dir_fd, d)});
  }
  ::closedir(dir);
  if (!status.ok()) return status;
  return entries;
}

StatusOr<UniqueFd> OpenDirAt(int parent_fd, const std::string& name) {
  const int fd = ::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    // O_DIRECTORY|O_NOFOLLOW on a symlink fails with ELOOP or ENOTDIR; name
    // the symlink case explicitly so it is counted as invalid, not missing.
    const int err = errno;
    struct stat st;
    if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      return InvalidError("root " + name + " is a symlink (not followed)");
    }
    return ErrnoError(err, "open " + name);
  }
  return UniqueFd(fd);
}

Status FileIdentity(int fd, dev_t* dev, ino_t* ino) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoError(errno, "fstat");
  *dev = st.st_dev;
  *ino = st.st_ino;
  return Status::Ok();
}

}  // namespace gvisor_exporter
