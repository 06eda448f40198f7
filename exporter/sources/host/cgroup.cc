#include "exporter/sources/host/cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <utility>

#include "exporter/common/file_util.h"
#include "exporter/sources/host/host_io.h"

namespace gvisor_exporter {

namespace {

constexpr size_t kMaxValueFileBytes = 256;   // memory.current, cpuacct.usage, ...
constexpr size_t kMaxStatFileBytes = 65536;  // memory.stat is ~1.5-3 KiB
constexpr size_t kMaxCgroupPathBytes = 4096;
constexpr size_t kMaxProcsFileBytes = 1 << 20;  // ~7 bytes per pid
constexpr size_t kMaxPidLineBytes = 8;          // pid_max 4194304: 7 digits + \n

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

double UserHz() {
  const int64_t hz = ::sysconf(_SC_CLK_TCK);
  return hz > 0 ? static_cast<double>(hz) : 100.0;
}

// <base>/<rel>/<name>: the directories walked with O_NOFOLLOW (rel is
// untrusted), the file opened without following a symlink either.
StatusOr<std::string> ReadCgroupFile(const std::string& base, const std::string& rel,
                                     const std::string& name, size_t max, KeptFiles* kept,
                                     Records records = Records::One()) {
  return kept->Read(
      base + "/" + rel + "/" + name,
      [&]() -> StatusOr<UniqueFd> {
        StatusOr<UniqueFd> base_fd = OpenDir(base);
        if (!base_fd.ok()) return base_fd.status();
        StatusOr<UniqueFd> dir = host_io::OpenDirBeneath(base_fd->get(), rel);
        if (!dir.ok()) return dir.status();
        const int fd = ::openat(dir->get(), name.c_str(),
                                O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) return ErrnoError(errno, "open " + name);
        return UniqueFd(fd);
      },
      max, records);
}

// Collects what one cgroup directory yields; remembers the first failure so
// that "nothing readable" can be told apart from "partly readable". Files
// are read through `kept` (kept_files.h): a steady poll costs one pread each.
class CgroupFiles {
 public:
  CgroupFiles(std::string base_dir, std::string rel, KeptFiles* kept)
      : base_(std::move(base_dir)), rel_(std::move(rel)), kept_(kept) {}

  // A single number file, e.g. memory.current.
  std::optional<uint64_t> Value(const std::string& name) {
    std::optional<std::string> text = Read(name, kMaxValueFileBytes);
    uint64_t v = 0;
    if (!text) return std::nullopt;
    if (!ParseUint64(*text, &v)) {
      Fail(ParseError(name + ": not a number"));
      return std::nullopt;
    }
    ++read_;
    return v;
  }

  // A "key value" file, e.g. memory.stat; "" when unreadable.
  std::string Stat(const std::string& name) {
    std::optional<std::string> text = Read(name, kMaxStatFileBytes);
    if (!text) return "";
    ++read_;
    return std::move(text).value();
  }

  bool any_read() const { return read_ > 0; }
  const Status& first_error() const { return first_error_; }
  bool invalid() const { return first_error_.reason() == Reason::kInvalid; }

 private:
  std::optional<std::string> Read(const std::string& name, size_t max) {
    // After an invalid path (a symlink) nothing more is tried.
    if (invalid()) return std::nullopt;
    StatusOr<std::string> text = ReadCgroupFile(base_, rel_, name, max, kept_);
    if (!text.ok()) {
      Fail(text.status());
      return std::nullopt;
    }
    return std::move(text).value();
  }
  void Fail(const Status& s) {
    if (first_error_.ok()) first_error_ = s;
  }

  std::string base_, rel_;
  KeptFiles* kept_;
  Status first_error_;
  int read_ = 0;
};

std::optional<uint64_t> StatValue(std::string_view text, std::string_view key) {
  uint64_t v = 0;
  if (!FindStatValue(text, key, &v)) return std::nullopt;
  return v;
}

// v1 memory.stat: the hierarchical total_* value when present (it includes
// child cgroups, like usage_in_bytes does), else the cgroup-local one.
std::optional<uint64_t> V1StatValue(std::string_view text, const std::string& key) {
  std::optional<uint64_t> v = StatValue(text, "total_" + key);
  return v ? v : StatValue(text, key);
}

void SetWorkingSet(std::optional<uint64_t> inactive_file, HostCgroup* cg) {
  if (!cg->memory_usage_bytes) return;
  const uint64_t usage = *cg->memory_usage_bytes;
  const uint64_t inactive = inactive_file.value_or(0);
  cg->memory_working_set_bytes = usage > inactive ? usage - inactive : 0;
}

std::optional<double> Scaled(std::optional<uint64_t> v, double divisor) {
  if (!v) return std::nullopt;
  return static_cast<double>(*v) / divisor;
}

// The result when at least one file was read, else the first error.
StatusOr<HostCgroup> Finish(HostCgroup cg, const CgroupFiles& a, const CgroupFiles& b) {
  if (a.invalid()) return a.first_error();
  if (b.invalid()) return b.first_error();
  if (a.any_read() || b.any_read()) return cg;
  if (!a.first_error().ok()) return a.first_error();
  if (!b.first_error().ok()) return b.first_error();
  return NotFoundError("no cgroup controller mounted");
}

}  // namespace

CgroupReader::CgroupReader(std::string cgroup_root)
    : root_(std::move(cgroup_root)),
      // Five files per sandbox; a third of the fd limit.
      kept_(std::make_shared<KeptFiles>(KeptFiles::Budget(1.0 / 3, 65536))) {
  if (::access((root_ + "/cgroup.controllers").c_str(), F_OK) == 0) {
    layout_ = CgroupLayout::kV2;
    return;
  }
  if (IsDir(root_ + "/memory")) v1_memory_dir_ = root_ + "/memory";
  for (const char* name : {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"}) {
    if (IsDir(root_ + "/" + name)) {
      v1_cpuacct_dir_ = root_ + "/" + name;
      break;
    }
  }
  if (!v1_memory_dir_.empty() || !v1_cpuacct_dir_.empty()) layout_ = CgroupLayout::kV1;
}

StatusOr<std::string> CgroupReader::Resolve(const CgroupRef& ref) const {
  std::string path = ref.path;
  switch (ref.kind) {
    case CgroupRef::Kind::kNone:
      return NotFoundError("sandbox has no cgroup");
    case CgroupRef::Kind::kSystemd: {
      if (layout_ != CgroupLayout::kV2) {
        return InvalidError("systemd cgroups are only supported on cgroup v2 hosts");
      }
      // The raw "slice:prefix:name" form (perhaps with a '/' prepended).
      std::string_view raw(path);
      if (!raw.empty() && raw.front() == '/') raw.remove_prefix(1);
      if (raw.find(':') != std::string_view::npos && raw.find('/') == std::string_view::npos) {
        StatusOr<std::string> expanded = SystemdCgroupPath(raw);
        if (!expanded.ok()) return expanded.status();
        path = std::move(expanded).value();
      }
      break;
    }
    case CgroupRef::Kind::kV1:
    case CgroupRef::Kind::kV2:
      break;
  }
  if (layout_ == CgroupLayout::kNone) return NotFoundError("no cgroup hierarchy under " + root_);
  return ValidateCgroupPath(path);
}

StatusOr<HostCgroup> CgroupReader::Read(const CgroupRef& ref) const {
  StatusOr<std::string> rel = Resolve(ref);
  if (!rel.ok()) return rel.status();
  return layout_ == CgroupLayout::kV1 ? ReadV1(*rel) : ReadV2(*rel);
}

StatusOr<std::vector<int64_t>> CgroupReader::Members(const CgroupRef& ref) const {
  StatusOr<std::string> rel = Resolve(ref);
  if (!rel.ok()) return rel.status();
  std::string base = root_;
  if (layout_ == CgroupLayout::kV1) {
    base = !v1_memory_dir_.empty() ? v1_memory_dir_ : v1_cpuacct_dir_;
    if (base.empty()) return NotFoundError("no memory or cpuacct cgroup controller");
  }
  StatusOr<std::string> text = ReadCgroupFile(base, *rel, "cgroup.procs", kMaxProcsFileBytes,
                                              kept_.get(), Records::OfAtMost(kMaxPidLineBytes));
  if (!text.ok()) return text.status();
  std::vector<int64_t> pids = host_io::ParsePidList(*text);
  std::sort(pids.begin(), pids.end());
  return pids;
}

StatusOr<HostCgroup> CgroupReader::ReadV1(const std::string& rel) const {
  HostCgroup cg;
  CgroupFiles mem(v1_memory_dir_.empty() ? root_ + "/memory" : v1_memory_dir_, rel, kept_.get());
  cg.memory_usage_bytes = mem.Value("memory.usage_in_bytes");
  const std::string mstat = mem.Stat("memory.stat");
  cg.memory_rss_bytes = V1StatValue(mstat, "rss");
  cg.memory_cache_bytes = V1StatValue(mstat, "cache");
  cg.memory_shmem_bytes = V1StatValue(mstat, "shmem");
  cg.memory_mapped_file_bytes = V1StatValue(mstat, "mapped_file");
  SetWorkingSet(V1StatValue(mstat, "inactive_file"), &cg);

  CgroupFiles cpu(v1_cpuacct_dir_.empty() ? root_ + "/cpuacct" : v1_cpuacct_dir_, rel, kept_.get());
  cg.cpu_usage_seconds = Scaled(cpu.Value("cpuacct.usage"), 1e9);
  const std::string cstat = cpu.Stat("cpuacct.stat");
  const double hz = UserHz();
  cg.cpu_user_seconds = Scaled(StatValue(cstat, "user"), hz);
  cg.cpu_system_seconds = Scaled(StatValue(cstat, "system"), hz);
  return Finish(cg, mem, cpu);
}

StatusOr<HostCgroup> CgroupReader::ReadV2(const std::string& rel) const {
  HostCgroup cg;
  // memory.* exist only when the parent enables the memory controller for
  // its children; cpu.stat always exists.
  CgroupFiles files(root_, rel, kept_.get());
  cg.memory_usage_bytes = files.Value("memory.current");
  const std::string mstat = files.Stat("memory.stat");
  cg.memory_rss_bytes = StatValue(mstat, "anon");
  cg.memory_cache_bytes = StatValue(mstat, "file");
  cg.memory_shmem_bytes = StatValue(mstat, "shmem");
  cg.memory_mapped_file_bytes = StatValue(mstat, "file_mapped");
  SetWorkingSet(StatValue(mstat, "inactive_file"), &cg);

  const std::string cstat = files.Stat("cpu.stat");
  cg.cpu_usage_seconds = Scaled(StatValue(cstat, "usage_usec"), 1e6);
  cg.cpu_user_seconds = Scaled(StatValue(cstat, "user_usec"), 1e6);
  cg.cpu_system_seconds = Scaled(StatValue(cstat, "system_usec"), 1e6);
  return Finish(cg, files, files);
}

StatusOr<std::string> ValidateCgroupPath(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return InvalidError("cgroup path contains NUL");
  if (path.empty() || path.front() != '/') return InvalidError("cgroup path is not absolute");
  if (path.size() > kMaxCgroupPathBytes) return InvalidError("cgroup path too long");
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view comp = path.substr(start, slash - start);
    if (comp == "." || comp == "..") return InvalidError("cgroup path has a . or .. component");
    start = slash + 1;
  }
  std::string rel(path.substr(1));
  return rel;
}

StatusOr<std::string> SystemdCgroupPath(std::string_view spec) {
  if (spec.size() > kMaxCgroupPathBytes || spec.find('\0') != std::string_view::npos) {
    return InvalidError("bad systemd cgroup spec");
  }
  const size_t c1 = spec.find(':');
  const size_t c2 = c1 == std::string_view::npos ? c1 : spec.find(':', c1 + 1);
  if (c2 == std::string_view::npos || spec.find(':', c2 + 1) != std::string_view::npos) {
    return InvalidError("systemd cgroup is not slice:prefix:name");
  }
  const std::string_view slice = spec.substr(0, c1), prefix = spec.substr(c1 + 1, c2 - c1 - 1),
                         name = spec.substr(c2 + 1);
  constexpr std::string_view kSuffix = ".slice";
  if (!slice.ends_with(kSuffix) || slice == kSuffix || slice.find('/') != std::string_view::npos) {
    return InvalidError("bad systemd slice");
  }
  if (name.empty() || prefix.find('/') != std::string_view::npos ||
      name.find('/') != std::string_view::npos) {
    return InvalidError("bad systemd unit name");
  }
  // "a-b-c.slice" lives at /a.slice/a-b.slice/a-b-c.slice.
  std::string path;
  const std::string_view stem = slice.substr(0, slice.size() - kSuffix.size());
  if (stem != "-") {
    size_t start = 0;
    while (true) {
      const size_t dash = stem.find('-', start);
      const std::string_view upto = stem.substr(0, dash);
      if (dash == start || upto.empty() || upto.back() == '-') {
        return InvalidError("bad systemd slice");  // "a--b" or "-a" or "a-"
      }
      path += "/" + std::string(upto) + std::string(kSuffix);
      // Each level repeats its parents' names: stop long chains early.
      if (path.size() > kMaxCgroupPathBytes) return InvalidError("systemd cgroup path too long");
      if (dash == std::string_view::npos) break;
      start = dash + 1;
    }
  }
  path += "/" + std::string(prefix) + "-" + std::string(name) + ".scope";
  if (path.size() > kMaxCgroupPathBytes) return InvalidError("systemd cgroup path too long");
  return path;
}

bool FindStatValue(std::string_view text, std::string_view key, uint64_t* value) {
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
      return ParseUint64(line.substr(key.size() + 1), value);
    }
  }
  return false;
}

}  // namespace gvisor_exporter
