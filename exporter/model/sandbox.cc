#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

const char* StatsPathName(StatsPath p) {
  switch (p) {
    case StatsPath::kNone:
      return "none";
    case StatsPath::kControlSocket:
      return "control_socket";
    case StatsPath::kCli:
      return "cli";
  }
  return "none";
}

const char* ProcessRoleName(ProcessRole r) {
  switch (r) {
    case ProcessRole::kSentry:
      return "sentry";
    case ProcessRole::kGofer:
      return "gofer";
    case ProcessRole::kStub:
      return "stub";
    case ProcessRole::kOther:
      return "other";
  }
  return "other";
}

const char* TraceSessionStateName(TraceSessionState s) {
  switch (s) {
    case TraceSessionState::kActive:
      return "active";
    case TraceSessionState::kForeign:
      return "foreign";
    case TraceSessionState::kError:
      return "error";
    case TraceSessionState::kPaused:
      return "paused";
  }
  return "error";
}

}  // namespace gvisor_exporter
