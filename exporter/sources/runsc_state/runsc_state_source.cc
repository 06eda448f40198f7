#include "exporter/sources/runsc_state/runsc_state_source.h"

namespace gvisor_exporter {

void RunscStateSource::Read(Poll& poll) {
  NodeSnapshot& snap = poll.snapshot();
  poll.Time("runsc_state", [&] {
    ScanResult scan = scanner_.Scan();
    snap.roots = std::move(scan.roots_found);
    snap.sandboxes.resize(scan.sandboxes.size());
    for (size_t i = 0; i < scan.sandboxes.size(); ++i) {
      snap.sandboxes[i].info = std::move(scan.sandboxes[i]);
    }
    return scan.success;
  });
}

}  // namespace gvisor_exporter
