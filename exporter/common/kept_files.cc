#include "exporter/common/kept_files.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

namespace gvisor_exporter {

StatusOr<std::string> PreadWhole(int fd, const std::string& what, size_t max_bytes,
                                 Records records) {
  constexpr size_t kSeqPage = 4096;  // seq_file's first buffer: PAGE_SIZE
  // Most files are a few hundred bytes: start small, grow only when full.
  std::string buf(std::min<size_t>(max_bytes + 1, 4096), '\0');
  size_t have = 0;
  while (true) {
    ssize_t n;
    do {
      n = ::pread(fd, buf.data() + have, buf.size() - have, static_cast<off_t>(have));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoError(errno, "read " + what);
    have += static_cast<size_t>(n);
    if (have > max_bytes) {
      return TooLargeError(what + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
    // One record comes whole or fills the buffer. Records are added to the
    // kernel's page-sized seq buffer until the next one does not fit, so a
    // read that left room for the largest record (in both buffers) reached
    // the end; otherwise only a read of 0 is the end.
    const size_t room = std::min(buf.size(), kSeqPage) - std::min(have, kSeqPage);
    const bool end = n == 0 || (records.max_bytes == 0 && have < buf.size()) ||
                     (records.max_bytes > 0 && have < buf.size() && room > records.max_bytes);
    if (end) {
      buf.resize(have);
      return buf;
    }
    if (have == buf.size()) {
      if (records.max_bytes == 0) have = 0;  // read the record again, whole
      buf.resize(std::min(max_bytes + 1, buf.size() * 4));
    }
  }
}

bool IsKernelGenerated(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  return fs.f_type == PROC_SUPER_MAGIC || fs.f_type == CGROUP_SUPER_MAGIC ||
         fs.f_type == CGROUP2_SUPER_MAGIC;
}

KeptFiles::KeptFiles(size_t max_files) : max_files_(max_files) {}

KeptFiles::Opener KeptFiles::OpenNoFollow(const std::string& path) {
  return [path]() -> StatusOr<UniqueFd> {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return ErrnoError(errno, "open " + path);
    return UniqueFd(fd);
  };
}

std::shared_ptr<UniqueFd> KeptFiles::Lookup(const std::string& key, std::optional<uint64_t>* tag) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(key);
  if (it == files_.end()) return nullptr;
  it->second.round = round_;
  *tag = it->second.tag;
  return it->second.fd;
}

void KeptFiles::Keep(const std::string& key, std::shared_ptr<UniqueFd> fd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.size() >= max_files_ && files_.count(key) == 0) return;  // over budget: not kept
  files_[key] = Entry{std::move(fd), round_, std::nullopt};
}

void KeptFiles::EndRound() {
  std::vector<std::shared_ptr<UniqueFd>> closing;  // closed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = files_.begin(); it != files_.end();) {
    if (it->second.round != round_) {
      closing.push_back(std::move(it->second.fd));
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
  ++round_;
}

StatusOr<std::string> KeptFiles::Read(const std::string& key, const Opener& open, size_t max_bytes,
                                      Records records, std::optional<uint64_t>* tag) {
  std::optional<uint64_t> kept_tag;
  if (tag != nullptr) *tag = std::nullopt;
  if (std::shared_ptr<UniqueFd> kept = Lookup(key, &kept_tag)) {
    StatusOr<std::string> text = PreadWhole(kept->get(), key, max_bytes, records);
    if (text.ok() && tag != nullptr) *tag = kept_tag;
    if (text.ok() || text.status().reason() == Reason::kTooLarge) return text;
    Forget(key);  // gone (ESRCH, ENODEV): open afresh below
  }
  StatusOr<UniqueFd> fd = open();
  if (!fd.ok()) return fd.status();
  auto shared = std::make_shared<UniqueFd>(std::move(fd).value());
  StatusOr<std::string> text = PreadWhole(shared->get(), key, max_bytes, records);
  if (text.ok() && IsKernelGenerated(shared->get())) Keep(key, std::move(shared));
  return text;
}

void KeptFiles::SetTag(const std::string& key, uint64_t tag) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(key);
  if (it != files_.end()) it->second.tag = tag;
}

void KeptFiles::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(key);
}

size_t KeptFiles::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.size();
}

void RaiseFileLimit() {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  const rlim_t want = std::min<rlim_t>(rl.rlim_max, rlim_t{1} << 20);
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = want;
  (void)::setrlimit(RLIMIT_NOFILE, &rl);
}

size_t KeptFiles::Budget(double share, size_t cap) {
  struct rlimit rl {};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return cap;
  return std::min(cap, static_cast<size_t>(static_cast<double>(rl.rlim_cur) * share));
}

}  // namespace gvisor_exporter
