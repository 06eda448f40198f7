#include "exporter/sources/trace/session_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "exporter/common/file_util.h"
#include "exporter/common/ids.h"
#include "exporter/common/json_util.h"

namespace gvisor_exporter {

namespace {
constexpr size_t kMaxRecordBytes = 4 << 20;
constexpr size_t kMaxEntries = 20000;
}  // namespace

SessionRecord::SessionRecord(std::string path) : path_(std::move(path)) {}

SessionRecord::Entry SessionRecord::KeyOf(const SandboxInfo& sb) {
  return {sb.root, sb.id, sb.pid, sb.pid_start_time};
}

bool SessionRecord::Contains(const SandboxInfo& sb) const { return entries_.count(KeyOf(sb)); }

Status SessionRecord::Load() {
  entries_.clear();
  if (path_.empty()) return Status::Ok();
  auto text = ReadFileBounded(path_, kMaxRecordBytes, /*no_follow=*/true);
  if (!text.ok()) {
    return text.status().reason() == Reason::kNotFound ? Status::Ok()
                                                       : text.status().WithContext(path_);
  }
  auto doc = ParseJson(*text);
  if (!doc.ok()) return doc.status().WithContext(path_);
  const auto it = doc->find("sessions");
  if (!doc->is_object() || it == doc->end() || !it->is_array()) {
    return ParseError(path_ + ": no \"sessions\" array");
  }
  for (const auto& e : *it) {
    std::string root, id;
    int64_t pid = 0;
    uint64_t start = 0;
    if (!GetString(e, "root", &root) || !GetString(e, "id", &id) || !GetInt(e, "pid", &pid) ||
        !GetUint(e, "start_time", &start) || !IsValidId(id) || root.empty() || pid <= 0) {
      continue;  // skip a bad entry, keep the rest
    }
    if (entries_.size() >= kMaxEntries) break;
    entries_.emplace(root, id, pid, start);
  }
  return Status::Ok();
}

Status SessionRecord::Save() const {
  if (path_.empty()) return Status::Ok();
  nlohmann::json doc = {{"sessions", nlohmann::json::array()}};
  for (const auto& [root, id, pid, start] : entries_) {
    doc["sessions"].push_back({{"root", root}, {"id", id}, {"pid", pid}, {"start_time", start}});
  }
  const std::string text = doc.dump() + "\n";
  const std::string tmp = path_ + ".tmp";
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW;
  UniqueFd fd(open(tmp.c_str(), flags, 0600));
  if (!fd.valid() && errno == ENOENT) {
    // First session on this node: create the record's directory (one level).
    const size_t slash = path_.rfind('/');
    if (slash != std::string::npos && slash > 0) mkdir(path_.substr(0, slash).c_str(), 0700);
    fd.reset(open(tmp.c_str(), flags, 0600));
  }
  if (!fd.valid()) return ErrnoError(errno, "create " + tmp);
  if (write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return ErrnoError(errno, "write " + tmp);
  }
  fd.reset();
  if (rename(tmp.c_str(), path_.c_str()) != 0) return ErrnoError(errno, "rename " + tmp);
  return Status::Ok();
}

Status SessionRecord::Add(const SandboxInfo& sb) {
  if (!entries_.insert(KeyOf(sb)).second) return Status::Ok();
  return Save();
}

Status SessionRecord::Remove(const SandboxInfo& sb) {
  if (!entries_.erase(KeyOf(sb))) return Status::Ok();
  return Save();
}

Status SessionRecord::RetainLive(const std::vector<SandboxInfo>& live) {
  std::set<Entry> keep;
  for (const auto& sb : live) {
    if (entries_.count(KeyOf(sb))) keep.insert(KeyOf(sb));
  }
  if (keep.size() == entries_.size()) return Status::Ok();
  entries_ = std::move(keep);
  return Save();
}

}  // namespace gvisor_exporter
