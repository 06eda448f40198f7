#include "exporter/common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>

#include "exporter/common/unique_fd.h"

extern char** environ;

namespace gvisor_exporter {
namespace {

using Clock = std::chrono::steady_clock;

// Without a pidfd we cannot be woken by the child's exit, so poll() sleeps in
// slices of this length while waiting for it.
constexpr int kPollSliceMs = 5;
constexpr size_t kReadChunk = size_t{64} * 1024;

// Owns a spawned child. Whatever path leaves RunCommand, the destructor makes
// sure the child is killed (by its own pid only) and reaped: no zombies.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (!reaped_) KillAndReap();
  }

  // The waitpid status; nullopt if someone else reaped the child.
  std::optional<int> wait_status() const { return wait_status_; }

  // Non-blocking reap; true once the child has been reaped.
  bool TryReap() {
    if (reaped_) return true;
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      wait_status_ = st;
    } else if (r < 0 && errno == ECHILD) {
      reaped_ = true;  // a waitpid(-1) elsewhere took it: gone, status unknown
    }
    return reaped_;
  }

  void KillAndReap() {
    if (reaped_) return;
    // The child leads its own process group (see Spawn): whatever it started
    // and left running (a wrapper script's runsc, `timeout`, `sudo`) dies with
    // it instead of being orphaned once per call. Not reaped yet, so the pid
    // and the group id cannot have been reused.
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int st = 0;
    pid_t r;
    while ((r = waitpid(pid_, &st, 0)) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    if (r == pid_) wait_status_ = st;
  }

 private:
  pid_t pid_;
  bool reaped_ = false;
  std::optional<int> wait_status_;
};

Status SpawnError(int err, const std::string& program) {
  if (err == ENOENT) return NotFoundError(program + ": program not found");
  return ErrnoError(err, "spawn " + program);
}

// A pipe whose read end (ours) is non-blocking; both ends are CLOEXEC so no
// other child spawned concurrently inherits them.
Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError(errno, "pipe2");
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  int flags = fcntl(fds[0], F_GETFL);
  if (flags < 0 || fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoError(errno, "fcntl O_NONBLOCK");
  }
  return Status::Ok();
}

StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  // Fds opened by other threads without O_CLOEXEC must not leak either.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  // A process group of its own, so that a kill at the deadline reaches its
  // descendants too (Child::KillAndReap).
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  pid_t pid = -1;
  // glibc reports exec failures (ENOENT, EACCES) as the return value.
  int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return SpawnError(rc, argv[0]);
  return pid;
}

int MillisUntil(Clock::time_point t) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(t - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 60'000));
}

// Reads what is available on `fd` into `out`; closes fd at EOF or error.
// Fails with kTooLarge once `out` exceeds `limit`.
Status DrainOnce(UniqueFd* fd, std::string* out, size_t limit) {
  char buf[kReadChunk];
  ssize_t n = read(fd->get(), buf, sizeof(buf));
  if (n > 0) {
    if (out->size() + static_cast<size_t>(n) > limit) {
      return TooLargeError("output exceeds " + std::to_string(limit) + " bytes");
    }
    out->append(buf, static_cast<size_t>(n));
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    fd->reset();
  }
  return Status::Ok();
}

struct Streams {
  UniqueFd out, err;
  std::string out_data, err_data;
  bool open() const { return out.valid() || err.valid(); }
};

// Pumps both pipes and watches the child until the pipes close and the child
// exited, the deadline passes, or output grows over the limit.
Status Pump(Child* child, const UniqueFd& pidfd, Streams* s, Clock::time_point deadline,
            size_t limit, const std::string& program) {
  std::optional<Clock::time_point> exited_at;
  while (true) {
    if (!exited_at && child->TryReap()) exited_at = Clock::now();
    if (exited_at && !s->open()) return Status::Ok();
    if (exited_at && Clock::now() >= *exited_at + kSubprocessExitGrace) return Status::Ok();
    if (!exited_at && Clock::now() >= deadline) {
      child->KillAndReap();
      return TimeoutError(program + " did not finish in time; killed");
    }
    pollfd fds[3];
    nfds_t n = 0;
    int out_idx = -1, err_idx = -1;
    if (s->out.valid()) fds[out_idx = n++] = {s->out.get(), POLLIN, 0};
    if (s->err.valid()) fds[err_idx = n++] = {s->err.get(), POLLIN, 0};
    int wait_ms = MillisUntil(exited_at ? *exited_at + kSubprocessExitGrace : deadline);
    if (!exited_at) {
      if (pidfd.valid()) {
        fds[n++] = {pidfd.get(), POLLIN, 0};
      } else {
        wait_ms = std::min(wait_ms, kPollSliceMs);
      }
    }
    int rc = poll(fds, n, wait_ms);
    if (rc < 0 && errno != EINTR) return ErrnoError(errno, "poll");
    if (rc <= 0) continue;
    if (out_idx >= 0 && fds[out_idx].revents != 0) {
      GVE_RETURN_IF_ERROR(DrainOnce(&s->out, &s->out_data, limit));
    }
    if (err_idx >= 0 && fds[err_idx].revents != 0) {
      GVE_RETURN_IF_ERROR(DrainOnce(&s->err, &s->err_data, limit));
    }
  }
}

UniqueFd OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
#else
  return UniqueFd();
#endif
}

}  // namespace

StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout, size_t max_output_bytes) {
  if (argv.empty() || argv[0].empty()) return InvalidError("RunCommand: empty argv");
  const Clock::time_point start = Clock::now();
  Streams s;
  UniqueFd out_w, err_w;
  GVE_RETURN_IF_ERROR(MakePipe(&s.out, &out_w));
  GVE_RETURN_IF_ERROR(MakePipe(&s.err, &err_w));
  StatusOr<pid_t> pid = Spawn(argv, out_w.get(), err_w.get());
  if (!pid.ok()) return pid.status();
  Child child(*pid);
  // Our copies of the write ends must go, or the pipes never report EOF.
  out_w.reset();
  err_w.reset();
  // A pidfd (Linux >= 5.3) wakes poll() exactly when the child exits; without
  // one (old kernel, seccomp) we fall back to short poll slices.
  UniqueFd pidfd = OpenPidfd(*pid);

  Status st = Pump(&child, pidfd, &s, start + timeout, max_output_bytes, argv[0]);
  if (!st.ok()) {
    child.KillAndReap();
    return st;
  }
  CommandResult result;
  if (std::optional<int> ws = child.wait_status(); ws && WIFEXITED(*ws)) {
    result.exit_code = WEXITSTATUS(*ws);
  } else if (ws && WIFSIGNALED(*ws)) {
    result.term_signal = WTERMSIG(*ws);
  }
  result.stdout_data = std::move(s.out_data);
  result.stderr_data = std::move(s.err_data);
  result.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  return result;
}

}  // namespace gvisor_exporter
