// Source "control_socket": each sandbox's in-sandbox usage over its control
// socket (urpc), the preferred path.
#pragma once

#include "exporter/model/source.h"
#include "exporter/sources/control/control_client.h"

namespace gvisor_exporter {

class ControlSocketSource : public Source {
 public:
  // `full_memory`: Usage.Collect's Full scan (memory by category).
  ControlSocketSource(ControlClientOptions options, bool full_memory)
      : client_(options), full_memory_(full_memory) {}
  void Read(Poll& poll) override;

 private:
  ControlSocketClient client_;
  const bool full_memory_;
};

}  // namespace gvisor_exporter
