// Small fd-based directory helpers for scanning runsc roots without
// following symlinks (everything is relative to an open directory fd).
// Roots themselves are opened with OpenDir(path, NotADirectory::kInvalid)
// (file_util.h).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/common/unique_fd.h"

namespace gvisor_exporter {

enum class EntryType { kRegular, kDirectory, kSymlink, kOther, kGone };

struct DirEntry {
  std::string name;
  EntryType type = EntryType::kOther;
};

// Lists `dir_fd` (without "." and ".."), at most `max_entries` entries;
// `*truncated` tells whether more were left. The entry type comes from
// d_type, or fstatat(AT_SYMLINK_NOFOLLOW) when the filesystem does not fill
// it. The fd itself is left open and unchanged.
StatusOr<std::vector<DirEntry>> ListDir(int dir_fd, size_t max_entries, bool* truncated);

// Opens the single component `name` below `parent_fd`, never following a
// symlink (kInvalid when it is one).
StatusOr<UniqueFd> OpenDirAt(int parent_fd, const std::string& name);

// st_dev/st_ino of an open fd, to recognise one root reached by two paths.
Status FileIdentity(int fd, dev_t* dev, ino_t* ino);

}  // namespace gvisor_exporter
