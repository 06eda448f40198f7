#include "exporter/sources/example/example_source.h"

#include <unistd.h>

#include <sstream>

#include "exporter/collectors/metric_catalog.h"
#include "exporter/common/file_util.h"

namespace gvisor_exporter {

namespace {

// The "btime" line of <proc>/stat: the boot time, Unix seconds.
StatusOr<double> BootTime(const std::string& proc_root) {
  auto stat = ReadFileBounded(proc_root + "/stat", 1 << 20);
  if (!stat.ok()) return stat.status();
  std::istringstream in(*stat);
  for (std::string key; in >> key;) {
    double btime = 0;
    if (key == "btime" && in >> btime) return btime;
    in.ignore(1 << 20, '\n');
  }
  return ParseError(proc_root + "/stat: no btime line");
}

// Its metric, next to the code that fills it; registered by being linked.
const MetricRow kRows[] = {
    {.name = "gvisor_example_sandbox_start_time_seconds",
     .type = MetricType::Gauge,
     .help = "Unix time the sandbox's sentry started (test-only example source).",
     .labels = {SANDBOX_LABELS},
     .group = "Example (test-only)",
     .sandbox =
         [](const SandboxSnapshot& s, Samples& w) {
           if (const auto* facts = s.extensions.Get<ExampleSandboxFacts>()) {
             w.Add({}, facts->start_time_seconds);
           }
         }},
};
const RegisterMetricTable kRegistered(kRows);

}  // namespace

void ExampleSource::Read(Poll& poll) {
  StatusOr<double> boot = 0.0;
  poll.Time("example", [&] {
    boot = BootTime(proc_root_);
    if (!boot.ok()) poll.errors().Report("example", boot.status(), proc_root_ + "/stat");
    return boot.ok();
  });
  if (!boot.ok()) return;
  const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (SandboxSnapshot& s : poll.snapshot().sandboxes) {
    s.extensions.Put(
        ExampleSandboxFacts{*boot + static_cast<double>(s.info.pid_start_time) / ticks_per_second});
  }
}

}  // namespace gvisor_exporter
