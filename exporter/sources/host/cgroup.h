// What a sandbox's host cgroup says it costs.
//
// The layout is detected once, at construction:
//  - v2 (unified): <root>/cgroup.controllers exists. Files under <root><path>:
//    memory.current, memory.stat (anon, file, shmem, file_mapped,
//    inactive_file), cpu.stat (usage_usec, user_usec, system_usec).
//  - v1 (including "hybrid", where <root>/unified is a controller-less v2
//    mount used by systemd): per-controller directories <root>/memory and
//    <root>/cpuacct (or a joint <root>/cpu,cpuacct). Files under
//    <root>/<controller><path>: memory.usage_in_bytes, memory.stat
//    (total_* hierarchical values preferred over the cgroup-local ones),
//    cpuacct.usage (ns), cpuacct.stat (user/system in USER_HZ ticks).
// Working set = usage - inactive_file, floored at 0 (cAdvisor's definition).
//
// The path comes from a state file, i.e. from outside: it must be absolute,
// without NUL, "." or ".." components, and is walked one directory at a time
// with O_NOFOLLOW (a symlink fails with kInvalid). systemd cgroups (runsc
// supports them on v2 only) are read at their unified path: either the path
// runsc recorded, or "slice:prefix:name" expanded the way systemd names units
// (see SystemdCgroupPath). On a v1 host they are kInvalid (unsupported).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/common/kept_files.h"
#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

enum class CgroupLayout { kNone, kV1, kV2 };

class CgroupReader {
 public:
  explicit CgroupReader(std::string cgroup_root = "/sys/fs/cgroup");

  CgroupLayout layout() const { return layout_; }

  // Once per poll: closes the kept cgroup files not read since the last call.
  void EndRound() const { kept_->EndRound(); }

  // Every file that can be read fills its fields; a missing controller leaves
  // its fields unset. kNotFound when nothing at all could be read (the cgroup
  // is gone), kInvalid for a bad path or an unsupported kind, kNotFound for
  // Kind::kNone (nothing to read: check before calling to avoid counting it).
  StatusOr<HostCgroup> Read(const CgroupRef& ref) const;

  // The pids in the cgroup's cgroup.procs (v1: of the memory controller, else
  // cpuacct), sorted. Errors as Read's.
  StatusOr<std::vector<int64_t>> Members(const CgroupRef& ref) const;

 private:
  // The validated path below each hierarchy's root.
  StatusOr<std::string> Resolve(const CgroupRef& ref) const;
  StatusOr<HostCgroup> ReadV1(const std::string& rel) const;
  StatusOr<HostCgroup> ReadV2(const std::string& rel) const;

  std::string root_;
  CgroupLayout layout_ = CgroupLayout::kNone;
  std::string v1_memory_dir_;        // "" when not mounted
  std::string v1_cpuacct_dir_;       // "" when not mounted
  std::shared_ptr<KeptFiles> kept_;  // the files read, kept open between polls
};

// Checks an untrusted cgroup path; returns it relative (no leading '/').
StatusOr<std::string> ValidateCgroupPath(std::string_view path);

// "system.slice:docker:abc" -> "/system.slice/docker-abc.scope";
// "a-b.slice:p:n" -> "/a.slice/a-b.slice/p-n.scope"; "-.slice" is the root
// slice. kInvalid for anything runsc itself would reject.
StatusOr<std::string> SystemdCgroupPath(std::string_view spec);

// Parses "key value" lines (memory.stat, cpu.stat, cpuacct.stat) and returns
// the value of `key`; false when absent or malformed.
bool FindStatValue(std::string_view text, std::string_view key, uint64_t* value);

}  // namespace gvisor_exporter
