#include "exporter/sources/host/host_source.h"

#include "exporter/sources/host/platform.h"

namespace gvisor_exporter {

void HostSource::Read(Poll& poll) {
  poll.ForEachSandbox([this](SandboxPoll& sb) {
    SandboxSnapshot& s = sb.sandbox();
    if (processes_) {
      auto procs = sb.Read("procfs", [&] { return reader_.Processes(s.info); });
      if (procs.ok()) {
        s.processes = std::move(procs).value();
      } else if (procs.status().reason() == Reason::kNotFound) {
        // The sentry died between discovery and now: the sandbox is gone, and
        // its series must not be served with half the data.
        sb.MarkGone();
        return;
      }
      if (s.info.cgroup.kind != CgroupRef::Kind::kNone) {
        auto cg = sb.Read("cgroup", [&] { return reader_.Cgroup(s.info); });
        if (cg.ok()) s.cgroup = std::move(cg).value();
      }
    }
    auto platform = sb.Read("platform", [&] { return reader_.Platform(s.info); });
    if (platform.ok()) s.platform = std::move(platform).value();
  });
  reader_.Retain(poll.LiveKeys());
}

void NodeProbeSource::Read(Poll& poll) {
  const auto now = std::chrono::steady_clock::now();
  if (!probed_ || now - last_probe_ >= interval_) {
    node_ = ProbeNode(runsc_version_, dev_root_);
    last_probe_ = now;
    probed_ = true;
  }
  poll.snapshot().node = node_;
}

}  // namespace gvisor_exporter
