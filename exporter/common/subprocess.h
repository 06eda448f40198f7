// Runs a program without a shell and captures its output, bounded in time and
// size.
//
// The exporter is a long-running, multi-threaded daemon, so a child must never
// outlive its deadline, inherit a stray fd, or be left a zombie: the child gets
// stdin from /dev/null, stdout/stderr through pipes, every other fd closed,
// default signal dispositions and an empty signal mask. A grandchild that keeps
// the pipes open (`runsc run --detach` does) cannot stall the caller: once the
// child itself has exited we drain for a short grace period and stop.
// The child leads a process group of its own: when it is killed (deadline,
// output limit) the whole group is, so a process it started (a wrapper
// script's runsc) does not outlive the call; descendants of a child that
// exited by itself are left alone (`runsc run --detach`).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "exporter/common/status.h"

namespace gvisor_exporter {

struct CommandResult {
  int exit_code = -1;   // 0..255 when the child exited, -1 when killed by a signal
  int term_signal = 0;  // the signal that ended the child, 0 when it exited
  std::string stdout_data;
  std::string stderr_data;
  std::chrono::microseconds duration{0};  // spawn to reap

  bool success() const { return exit_code == 0; }
};

// How long output is still drained after the child exited while a grandchild
// holds the pipes open.
inline constexpr std::chrono::milliseconds kSubprocessExitGrace{50};

// Runs argv[0] (searched in PATH when it has no '/') with argv, no shell.
// Returns the result for any exit code; fails with
//   kNotFound / kPermission when the program cannot be executed,
//   kTimeout when it ran longer than `timeout` (its process group is SIGKILLed
//            and the child reaped),
//   kTooLarge when stdout or stderr exceeded `max_output_bytes` (killed too),
//   kInvalid on an empty argv.
// The child is always reaped before this returns.
StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout, size_t max_output_bytes);

}  // namespace gvisor_exporter
