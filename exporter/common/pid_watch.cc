#include "exporter/common/pid_watch.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

namespace gvisor_exporter {

bool SameProcNumbering(const std::string& proc_root) {
  char buf[32];
  const ssize_t n = ::readlink((proc_root + "/self").c_str(), buf, sizeof(buf) - 1);
  if (n <= 0) return false;
  int64_t self = 0;
  const auto [end, ec] = std::from_chars(buf, buf + n, self);
  return ec == std::errc() && end == buf + n && self == ::getpid();
}

UniqueFd PidWatch::OpenPidfd(int64_t pid) {
  if (pid <= 0 || pid > INT32_MAX) return UniqueFd();
  // pidfds are close-on-exec.
  return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)));
}

std::unique_ptr<PidWatch> PidWatch::Open(const std::string& proc_root, size_t max_watched) {
  if (!SameProcNumbering(proc_root)) return nullptr;
  UniqueFd self = OpenPidfd(::getpid());
  if (!self.valid()) return nullptr;
  // Running: not readable.
  pollfd p{self.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) != 0) return nullptr;
  return std::make_unique<PidWatch>(max_watched);
}

void PidWatch::BeginRound() {
  std::lock_guard<std::mutex> lock(mu_);
  if (watched_.empty()) return;
  std::vector<pollfd> fds;
  std::vector<const std::string*> keys;
  fds.reserve(watched_.size());
  keys.reserve(watched_.size());
  for (const auto& [key, e] : watched_) {
    fds.push_back(pollfd{e.pidfd.get(), POLLIN, 0});
    keys.push_back(&key);
  }
  int rc;
  do {
    rc = ::poll(fds.data(), fds.size(), 0);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    watched_.clear();  // cannot tell: everyone is verified again the slow way
    return;
  }
  std::vector<std::string> exited;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents != 0) exited.push_back(*keys[i]);  // exited (or a broken fd)
  }
  for (const std::string& key : exited) watched_.erase(key);
}

std::optional<uint64_t> PidWatch::Alive(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = watched_.find(key);
  if (it == watched_.end()) return std::nullopt;
  it->second.used = true;
  return it->second.tag;
}

void PidWatch::Watch(const std::string& key, UniqueFd pidfd, uint64_t tag) {
  if (!pidfd.valid()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (watched_.size() >= max_watched_ && watched_.count(key) == 0) return;
  watched_[key] = Entry{std::move(pidfd), tag, true};
}

void PidWatch::EndRound() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = watched_.begin(); it != watched_.end();) {
    if (!it->second.used) {
      it = watched_.erase(it);
    } else {
      it->second.used = false;
      ++it;
    }
  }
}

size_t PidWatch::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return watched_.size();
}

}  // namespace gvisor_exporter
