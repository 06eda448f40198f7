// Source "cli": the runsc CLI (`runsc events` / `runsc usage`) as the
// fallback for sandboxes whose control socket did not answer this poll. It
// runs after the control socket source and reads only those sandboxes.
#pragma once

#include "exporter/model/source.h"
#include "exporter/sources/cli/runsc_cli.h"

namespace gvisor_exporter {

class CliSource : public Source {
 public:
  CliSource(RunscCliOptions options, bool full_memory)
      : cli_(std::move(options)), full_memory_(full_memory) {}
  void Read(Poll& poll) override;

 private:
  RunscCli cli_;
  const bool full_memory_;
};

}  // namespace gvisor_exporter
