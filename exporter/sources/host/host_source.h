// Source "host": what each sandbox costs the host (its processes from /proc,
// its cgroup) and how it is configured (platform), through HostReader; and
// node-wide facts (runsc version, KVM), probed rarely.
#pragma once

#include <chrono>
#include <string>

#include "exporter/model/source.h"
#include "exporter/sources/host/host_reader.h"

namespace gvisor_exporter {

class HostSource : public Source {
 public:
  // `processes` false (--no-collector.host): only the platform is read.
  HostSource(HostReaderOptions options, bool processes, ErrorReporter* errors)
      : reader_(std::move(options), errors), processes_(processes) {}
  void Read(Poll& poll) override;

 private:
  HostReader reader_;
  const bool processes_;
};

// Node facts: probed at the first poll, then every `interval`.
class NodeProbeSource : public Source {
 public:
  NodeProbeSource(std::string runsc_version, std::string dev_root,
                  std::chrono::milliseconds interval = std::chrono::minutes(10))
      : runsc_version_(std::move(runsc_version)),
        dev_root_(std::move(dev_root)),
        interval_(interval) {}
  void Read(Poll& poll) override;

 private:
  const std::string runsc_version_, dev_root_;
  const std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_probe_{};
  bool probed_ = false;
  NodeInfo node_;
};

}  // namespace gvisor_exporter
