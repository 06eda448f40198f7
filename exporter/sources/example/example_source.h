// A source only tests link: it shows, and its test proves, what adding a
// source takes (README, "How it works"). It reads the host's boot time once
// per poll and gives each sandbox the wall-clock time its sentry started
// (the sentry's start time in clock ticks after boot, from discovery), as a
// fact the model does not name, rendered by its own metric row.
//
// To ship it: one line in exporter/app/source_list.cc,
//   std::make_unique<ExampleSource>(f.procfs),
// and METRICS.md regenerated.
#pragma once

#include <string>

#include "exporter/model/source.h"

namespace gvisor_exporter {

// What this source knows of a sandbox (SandboxSnapshot::extensions).
struct ExampleSandboxFacts {
  double start_time_seconds = 0;  // Unix time
};

class ExampleSource : public Source {
 public:
  explicit ExampleSource(std::string proc_root) : proc_root_(std::move(proc_root)) {}
  void Read(Poll& poll) override;

 private:
  const std::string proc_root_;
};

}  // namespace gvisor_exporter
