// Which sandboxes' "Default" trace session this exporter created, kept in a
// small file that survives exporter restarts (a hostPath in the DaemonSet).
//
// runsc reports a session's name and drop count but not who made it, so
// after a restart the exporter could not tell its own orphaned session (its
// sink died with the old process) from another consumer's. A record names
// the sandbox AND its sentry's pid + start time, so a reused sandbox id or
// pid never makes someone else's session look like ours.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <tuple>

#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

class SessionRecord {
 public:
  // `path` "" keeps the record in memory only.
  explicit SessionRecord(std::string path);

  // Reads the file; a missing file is an empty record. A garbled one is
  // reported and treated as empty (worst case: our own orphaned sessions
  // look foreign and are left alone).
  Status Load();

  bool Contains(const SandboxInfo& sb) const;
  // Both save at once (atomic rename); errors are returned, the in-memory
  // record is updated regardless.
  Status Add(const SandboxInfo& sb);
  Status Remove(const SandboxInfo& sb);
  // Forgets entries whose sandbox is not in `live` (keys of root, id, pid, start).
  Status RetainLive(const std::vector<SandboxInfo>& live);

  size_t size() const { return entries_.size(); }

 private:
  using Entry = std::tuple<std::string, std::string, int64_t, uint64_t>;  // root, id, pid, start
  static Entry KeyOf(const SandboxInfo& sb);
  Status Save() const;

  std::string path_;
  std::set<Entry> entries_;
};

}  // namespace gvisor_exporter
