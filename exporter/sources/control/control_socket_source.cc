#include "exporter/sources/control/control_socket_source.h"

namespace gvisor_exporter {

void ControlSocketSource::Read(Poll& poll) {
  poll.ForEachSandbox([this](SandboxPoll& sb) {
    auto usage =
        sb.Read("control_socket", [&] { return client_.Collect(sb.info(), full_memory_); });
    if (usage.ok()) sb.sandbox().usage = std::move(usage).value();
  });
  client_.Retain(poll.LiveKeys());
}

}  // namespace gvisor_exporter
