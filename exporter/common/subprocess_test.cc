#include "exporter/common/subprocess.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace gvisor_exporter {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr size_t kMiB = 1 << 20;

int CountOpenFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1;  // the DIR's own fd
}

// True when this process has no child left, reaped or not: no zombie.
bool NoChildren() {
  int st;
  return waitpid(-1, &st, WNOHANG) < 0 && errno == ECHILD;
}

StatusOr<CommandResult> Sh(const std::string& script, milliseconds timeout = milliseconds(5000),
                           size_t limit = kMiB) {
  return RunCommand({"/bin/sh", "-c", script}, timeout, limit);
}

TEST(RunCommandTest, CapturesStdout) {
  auto r = RunCommand({"echo", "hello", "world"}, milliseconds(5000), kMiB);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_TRUE(r->success());
  EXPECT_EQ(r->stdout_data, "hello world\n");
  EXPECT_EQ(r->stderr_data, "");
  EXPECT_TRUE(NoChildren());
}

TEST(RunCommandTest, ArgumentsAreNotInterpretedByAShell) {
  auto r = RunCommand({"echo", "$HOME;", "`id`", "*"}, milliseconds(5000), kMiB);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_data, "$HOME; `id` *\n");
}

TEST(RunCommandTest, NonZeroExitWithStderrIsAResultNotAnError) {
  auto r = Sh("echo out; echo 'bad thing' >&2; exit 3");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->success());
  EXPECT_EQ(r->stdout_data, "out\n");
  EXPECT_EQ(r->stderr_data, "bad thing\n");
}

TEST(RunCommandTest, KilledBySignal) {
  auto r = Sh("kill -9 $$");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGKILL);
}

TEST(RunCommandTest, HangingChildIsKilledAtTheDeadline) {
  const auto start = Clock::now();
  auto r = RunCommand({"sleep", "30"}, milliseconds(200), kMiB);
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), Reason::kTimeout) << r.status().ToString();
  EXPECT_GE(elapsed, milliseconds(200));
  EXPECT_LT(elapsed, milliseconds(300));
  EXPECT_TRUE(NoChildren());
}

TEST(RunCommandTest, ChildThatClosesItsPipesButKeepsRunningIsKilled) {
  auto r = Sh("exec >/dev/null 2>&1; sleep 30", milliseconds(150));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), Reason::kTimeout);
  EXPECT_TRUE(NoChildren());
}

TEST(RunCommandTest, MegabytesOfOutput) {
  auto r = RunCommand({"head", "-c", "5000000", "/dev/zero"}, milliseconds(5000), 8 * kMiB);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stdout_data.size(), 5000000u);
}

TEST(RunCommandTest, OutputOverTheLimitKillsTheChild) {
  // `yes` would run forever: only the limit can stop it.
  auto r = RunCommand({"yes"}, milliseconds(5000), kMiB);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), Reason::kTooLarge);
  EXPECT_TRUE(NoChildren());
}

TEST(RunCommandTest, StderrOverTheLimit) {
  auto r = Sh("head -c 3000000 /dev/zero >&2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), Reason::kTooLarge);
}

TEST(RunCommandTest, MissingBinaryIsNotFound) {
  for (const char* prog : {"/nonexistent/gve-no-such-program", "gve-no-such-program"}) {
    auto r = RunCommand({prog}, milliseconds(5000), kMiB);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), Reason::kNotFound) << r.status().ToString();
    EXPECT_NE(r.status().message().find("gve-no-such-program"), std::string::npos);
  }
  EXPECT_TRUE(NoChildren());
}

TEST(RunCommandTest, NonExecutableFileIsPermissionDenied) {
  char path[] = "/tmp/gve-subprocess-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  chmod(path, 0644);
  auto r = RunCommand({path}, milliseconds(5000), kMiB);
  unlink(path);
  ASSERT_FALSE(r.ok());
  // root may execute nothing without an x bit either.
  EXPECT_EQ(r.status().reason(), Reason::kPermission) << r.status().ToString();
}

TEST(RunCommandTest, EmptyArgvIsInvalid) {
  EXPECT_EQ(RunCommand({}, milliseconds(100), kMiB).status().reason(), Reason::kInvalid);
  EXPECT_EQ(RunCommand({""}, milliseconds(100), kMiB).status().reason(), Reason::kInvalid);
}

TEST(RunCommandTest, StdinIsDevNull) {
  auto r = Sh("cat; echo done");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stdout_data, "done\n");
}

// `runsc run --detach` leaves a daemon holding the inherited pipes: the call
// must return shortly after the direct child exits, not when the daemon does.
TEST(RunCommandTest, GrandchildHoldingThePipesDoesNotStallTheCaller) {
  const auto start = Clock::now();
  auto r = Sh("sleep 30 & echo $!");
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_LT(elapsed, milliseconds(1000));
  EXPECT_EQ(r->exit_code, 0);
  pid_t grandchild = std::atoi(r->stdout_data.c_str());
  ASSERT_GT(grandchild, 1);
  kill(grandchild, SIGKILL);  // by its pid; it was reparented, init reaps it
  EXPECT_TRUE(NoChildren());
}

// A wrapper that hangs in a process it started (a shell script running runsc
// without exec): the kill at the deadline must reach that process too, or
// every poll of a hung sandbox would orphan one more.
TEST(RunCommandTest, HangingGrandchildIsKilledWithTheChild) {
  char path[] = "/tmp/gve-subprocess-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  auto r = Sh(std::string("sleep 30 & echo $! >") + path + "; wait", milliseconds(300));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), Reason::kTimeout);
  pid_t grandchild = 0;
  std::ifstream(path) >> grandchild;
  unlink(path);
  ASSERT_GT(grandchild, 1);
  // Reparented and killed: gone once its new parent reaps it (or a zombie meanwhile).
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string line;
    gone = !std::getline(stat, line) || line.find(") Z ") != std::string::npos;
    if (!gone) usleep(10000);
  }
  if (!gone) kill(grandchild, SIGKILL);  // by its pid: do not leave it behind
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived the kill at the deadline";
  EXPECT_TRUE(NoChildren());
}

TEST(RunCommandTest, NoFdLeaksIntoTheChildOrTheParent) {
  // An fd opened without O_CLOEXEC, as another thread might.
  int raw = open("/dev/null", O_RDONLY);
  ASSERT_GE(raw, 0);
  ASSERT_EQ(dup2(raw, 100), 100);
  close(raw);
  const int before = CountOpenFds();
  auto r = RunCommand({"ls", "/proc/self/fd"}, milliseconds(5000), kMiB);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(CountOpenFds(), before);
  close(100);
  // 0,1,2 and ls's own directory fd (3), nothing else.
  EXPECT_EQ(r->stdout_data, "0\n1\n2\n3\n");
}

TEST(RunCommandTest, ChildGetsEmptySignalMaskAndDefaultHandlers) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  auto prev = signal(SIGUSR1, SIG_IGN);
  auto r = RunCommand({"sed", "-n", "s/^Sig\\(Blk\\|Ign\\):\\t//p", "/proc/self/status"},
                      milliseconds(5000), kMiB);
  signal(SIGUSR1, prev);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ASSERT_TRUE(r.ok());
  unsigned long long blocked = 0, ignored = 0;
  ASSERT_EQ(std::sscanf(r->stdout_data.c_str(), "%llx %llx", &blocked, &ignored), 2);
  EXPECT_EQ(blocked, 0u);
  // glibc's posix_spawn leaves its two internal signals (32, 33) ignored; they
  // cannot be named in a sigset. All standard signals are back to default.
  EXPECT_EQ(ignored & 0x7fffffffULL, 0u) << r->stdout_data;
}

TEST(RunCommandTest, ReportsDuration) {
  auto r = RunCommand({"sleep", "0.05"}, milliseconds(5000), kMiB);
  ASSERT_TRUE(r.ok());
  EXPECT_GE(r->duration, milliseconds(50));
  EXPECT_LT(r->duration, milliseconds(1000));
}

}  // namespace
}  // namespace gvisor_exporter
