// Source "runsc_state": the sandboxes of the runsc roots (RootScanner). It
// runs first: every other source reads the sandboxes it lists.
#pragma once

#include "exporter/model/source.h"
#include "exporter/sources/runsc_state/root_scanner.h"

namespace gvisor_exporter {

class RunscStateSource : public Source {
 public:
  RunscStateSource(RootScannerOptions options, ErrorReporter* errors)
      : scanner_(std::move(options), errors) {}
  void Read(Poll& poll) override;

 private:
  RootScanner scanner_;
};

}  // namespace gvisor_exporter
