#include "exporter/sources/host/self_process.h"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cstdlib>
#include <sstream>

#include "exporter/common/file_util.h"
#include "exporter/sources/host/procfs.h"

namespace gvisor_exporter {

namespace {

constexpr size_t kMaxStatBytes = 4096;
constexpr size_t kMaxLimitsBytes = 8192;
// /proc/stat has a line per CPU and an "intr" line with a count per IRQ.
constexpr size_t kMaxProcStatBytes = 4 << 20;

std::optional<double> BootTime(const std::string& proc_root) {
  StatusOr<std::string> text = ReadFileBounded(proc_root + "/stat", kMaxProcStatBytes);
  if (!text.ok()) return std::nullopt;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("btime ", 0) != 0) continue;
    uint64_t btime = 0;
    if (ParseUint64(std::string_view{line}.substr(6), &btime)) return static_cast<double>(btime);
    return std::nullopt;
  }
  return std::nullopt;
}

// Entries of an fd directory; with `skip_own`, not the descriptor that this
// readdir itself holds (client_golang counts it; it is not the process's).
std::optional<double> CountFds(const std::string& dir, bool skip_own) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return std::nullopt;
  const std::string own = std::to_string(dirfd(d));
  double n = 0;
  while (const dirent* e = readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == ".." || (skip_own && name == own)) continue;
    ++n;
  }
  closedir(d);
  return n;
}

// Since Linux 6.2 the size of a /proc/<pid>/fd directory is its number of
// open descriptors: one stat instead of a listing. Unset where that does not
// hold (another file system, or an older kernel, whose size is 0).
std::optional<double> FdCountFromSize(const std::string& fd_dir) {
  struct stat st {};
  if (stat(fd_dir.c_str(), &st) != 0 || st.st_size <= 0) return std::nullopt;
  return static_cast<double>(st.st_size);
}

bool IsProcfs(const std::string& path) {
  struct statfs fs {};
  return statfs(path.c_str(), &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC;
}

}  // namespace

std::optional<double> SoftLimit(const std::string& limits_text, const std::string& name) {
  std::istringstream lines(limits_text);
  std::string line;
  while (std::getline(lines, line)) {
    // "Max open files            1024                 524288               files"
    if (line.rfind(name, 0) != 0 || line.size() == name.size() || line[name.size()] != ' ') {
      continue;
    }
    std::istringstream fields(line.substr(name.size()));
    std::string soft;
    if (!(fields >> soft)) return std::nullopt;
    if (soft == "unlimited") return 18446744073709551615.0;
    uint64_t v = 0;
    if (!ParseUint64(soft, &v)) return std::nullopt;
    return static_cast<double>(v);
  }
  return std::nullopt;
}

SelfProcessReader::SelfProcessReader(const std::string& proc_root, const std::string& pid,
                                     long ticks_per_second, long page_size)
    : dir_(proc_root + "/" + pid),
      is_self_(pid == "self"),
      ticks_per_second_(ticks_per_second > 0 ? static_cast<double>(ticks_per_second) : 100.0),
      page_size_(page_size > 0 ? static_cast<double>(page_size) : 4096.0),
      boot_time_seconds_(BootTime(proc_root)),
      fd_count_from_size_(IsProcfs(dir_) && FdCountFromSize(dir_ + "/fd").has_value()) {}

std::optional<double> SelfProcessReader::OpenFdsNow() const {
  if (fd_count_from_size_) {
    if (std::optional<double> n = FdCountFromSize(dir_ + "/fd")) return n;
  }
  return CountFds(dir_ + "/fd", is_self_);
}

// Cost, measured on the 2-core test VM: ~50 us CPU per call (reading stat,
// limits and listing fd/ ~12 us each in the kernel, the rest parsing). All of
// it comes from the kernel's own tables of this process, with no page walk
// and no lock another process can hold, so a scrape cannot block on it; read
// at poll time instead, process_cpu_seconds_total would be up to a poll
// interval old at every scrape.
void SelfProcessReader::CountOpenFds() {
  std::optional<double> n = OpenFdsNow();
  if (n) counted_fds_.store(static_cast<int64_t>(*n), std::memory_order_relaxed);
}

ProcessStats SelfProcessReader::Read() const {
  ProcessStats out;
  if (StatusOr<std::string> text = ReadFileBounded(dir_ + "/stat", kMaxStatBytes); text.ok()) {
    if (StatusOr<ProcStat> st = ParseProcStat(*text); st.ok()) {
      out.cpu_seconds = static_cast<double>(st->utime + st->stime) / ticks_per_second_;
      if (st->rss_pages)
        out.resident_memory_bytes = static_cast<double>(*st->rss_pages) * page_size_;
      if (st->vsize_bytes) out.virtual_memory_bytes = static_cast<double>(*st->vsize_bytes);
      if (boot_time_seconds_) {
        out.start_time_seconds =
            *boot_time_seconds_ + static_cast<double>(st->starttime) / ticks_per_second_;
      }
    }
  }
  const int64_t counted = counted_fds_.load(std::memory_order_relaxed);
  out.open_fds = counted >= 0 ? std::optional<double>(static_cast<double>(counted)) : OpenFdsNow();
  if (StatusOr<std::string> text = ReadFileBounded(dir_ + "/limits", kMaxLimitsBytes); text.ok()) {
    out.max_fds = SoftLimit(*text, "Max open files");
    out.virtual_memory_max_bytes = SoftLimit(*text, "Max address space");
  }
  return out;
}

}  // namespace gvisor_exporter
