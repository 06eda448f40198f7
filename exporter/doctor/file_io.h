// Read-only access to the files a config names, for the doctor.
//
// Paths come from configs (imports, ConfigPath, pod-init-config): whatever
// they name is looked at with stat first and opened only when it is a regular
// file, so a FIFO (which would block), a device (opening may have effects) or
// a directory is reported instead. Symlinks are followed (hosts do symlink
// /etc files), but only to regular files; reads are bounded.
#pragma once

#include <cstddef>
#include <string>

#include "exporter/common/status.h"

namespace gvisor_exporter::doctor {

inline constexpr size_t kMaxConfigBytes = 1 << 20;

// The whole file; kInvalid when it is not a regular file, kTooLarge beyond
// `max_bytes`, the errno's reason otherwise.
StatusOr<std::string> ReadRegularFile(const std::string& path, size_t max_bytes = kMaxConfigBytes);

// `name` itself when it contains '/', else the first executable regular file
// `<dir>/<name>` for dir in $PATH (or `path_env` when given). kNotFound /
// kPermission when there is none.
StatusOr<std::string> FindExecutable(const std::string& name, const char* path_env = nullptr);

}  // namespace gvisor_exporter::doctor
