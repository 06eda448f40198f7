#include "exporter/sources/cli/cli_source.h"

namespace gvisor_exporter {

void CliSource::Read(Poll& poll) {
  poll.ForEachSandbox([this](SandboxPoll& sb) {
    if (sb.sandbox().usage.path != StatsPath::kNone) return;  // served by the control socket
    auto usage = sb.Read("cli", [&] { return cli_.Collect(sb.info(), full_memory_); });
    if (usage.ok()) sb.sandbox().usage = std::move(usage).value();
  });
}

}  // namespace gvisor_exporter
