#include "exporter/model/source.h"

namespace gvisor_exporter {

namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void SandboxPoll::Fold(std::string_view collector, std::chrono::steady_clock::time_point t0,
                       const Status& status) {
  SourceHealth& h = (*health_)[std::string(collector)];
  h.duration_seconds += SecondsSince(t0);
  if (status.ok()) return;
  errors_->Report(collector, status, sandbox_->info.id);
  if (status.reason() != Reason::kNotFound) h.success = false;
}

void Poll::Time(std::string_view collector, const std::function<bool()>& read) {
  const auto t0 = std::chrono::steady_clock::now();
  const bool ok = read();
  SourceHealth& h = snapshot().sources[std::string(collector)];
  h.duration_seconds += SecondsSince(t0);
  h.success = h.success && ok;
}

std::set<std::string> Poll::LiveKeys() {
  std::set<std::string> live;
  for (const SandboxSnapshot& s : snapshot().sandboxes) {
    if (s.info.pid != 0) live.insert(SandboxKey(s.info));
  }
  return live;
}

}  // namespace gvisor_exporter
