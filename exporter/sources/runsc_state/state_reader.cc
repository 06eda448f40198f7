#include "exporter/sources/runsc_state/state_reader.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "exporter/common/file_util.h"

namespace gvisor_exporter {

namespace {

std::string LockName(const std::string& state_name) {
  constexpr std::string_view kSuffix = ".state";
  return state_name.substr(0, state_name.size() - kSuffix.size()) + ".lock";
}

// A shared flock on the .lock file for the lifetime of the object; close()
// releases it. held() is false when the file is missing or stays busy.
class SharedLock {
 public:
  SharedLock(int dir_fd, const std::string& lock_name, const StateReadOptions& options,
             WaitBudget* budget) {
    fd_ = ::openat(dir_fd, lock_name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd_ < 0) return;  // missing (or a symlink): read without the lock
    for (int attempt = 0; attempt < options.lock_attempts; ++attempt) {
      if (attempt > 0 && !budget->Sleep(options.lock_retry_sleep)) break;
      int rc;
      do {
        rc = ::flock(fd_, LOCK_SH | LOCK_NB);
      } while (rc != 0 && errno == EINTR);
      if (rc == 0) {
        held_ = true;
        return;
      }
      if (errno != EWOULDBLOCK) break;  // e.g. ENOLCK: locking unsupported here
    }
  }
  ~SharedLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  SharedLock(const SharedLock&) = delete;
  SharedLock& operator=(const SharedLock&) = delete;
  bool held() const { return held_; }

 private:
  int fd_ = -1;
  bool held_ = false;
};

}  // namespace

bool WaitBudget::Sleep(std::chrono::microseconds d) {
  if (d > remaining_) return false;
  remaining_ -= d;
  std::this_thread::sleep_for(d);
  return true;
}

StatusOr<ParsedStateFile> ReadStateFile(int dir_fd, const std::string& state_name,
                                        const StateReadOptions& options, WaitBudget* budget) {
  const std::string lock_name = LockName(state_name);
  for (int attempt = 0;; ++attempt) {
    bool locked = false;
    StatusOr<std::string> text = [&]() {
      SharedLock lock(dir_fd, lock_name, options, budget);
      locked = lock.held();
      return ReadFileAtBounded(dir_fd, state_name, options.max_bytes);
    }();
    if (!text.ok()) return text.status();
    StatusOr<ParsedStateFile> parsed = ParseStateFile(*text);
    if (parsed.ok() || parsed.status().reason() != Reason::kParse || locked ||
        attempt >= options.parse_retries || !budget->Sleep(options.parse_retry_sleep)) {
      return parsed;
    }
  }
}

}  // namespace gvisor_exporter
