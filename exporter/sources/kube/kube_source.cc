#include "exporter/sources/kube/kube_source.h"

#include <algorithm>

#include "exporter/sources/kube/runtimeclass_list.h"

namespace gvisor_exporter {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{1000};

}  // namespace

KubeRuntimeClassSource::KubeRuntimeClassSource(KubeSourceOptions options, ErrorReporter* errors)
    : KubeRuntimeClassSource(std::move(options), errors, nullptr, nullptr) {}

KubeRuntimeClassSource::KubeRuntimeClassSource(KubeSourceOptions options, ErrorReporter* errors,
                                               Fetch fetch, std::function<Clock::time_point()> now)
    : options_(std::move(options)),
      errors_(errors),
      client_(options_.client),
      fetch_(std::move(fetch)),
      now_(std::move(now)) {
  if (!fetch_) fetch_ = [this] { return client_.Get(kRuntimeClassesPath); };
  if (!now_) now_ = [] { return Clock::now(); };
  last_.success = false;
}

Status KubeRuntimeClassSource::FetchAndParse() {
  if (!options_.config_error.ok()) return options_.config_error;
  auto body = fetch_();
  if (!body.ok()) return body.status();
  auto list = ParseRuntimeClassList(*body);
  if (!list.ok()) return list.status();
  // Skipped items are reported, the rest of the list is good.
  for (const Status& s : list->rejected) errors_->Report("kubernetes", s, "RuntimeClass");
  last_.state.runtime_classes = std::move(list->classes);
  return Status::Ok();
}

RuntimeClassSync KubeRuntimeClassSource::Refresh() {
  const Clock::time_point now = now_();
  if (attempted_ && now < next_attempt_) return last_;
  attempted_ = true;
  const Status s = FetchAndParse();
  last_.success = s.ok();
  last_.state.up = s.ok();
  if (s.ok()) {
    failures_ = 0;
    next_attempt_ = now_() + options_.refresh;
  } else {
    errors_->Report("kubernetes", s, kRuntimeClassesPath);
    // 1 s, 2 s, 4 s, ... up to the refresh interval.
    const int shift = std::min(failures_++, 20);
    next_attempt_ = now_() + std::min<std::chrono::milliseconds>(kFirstBackoff * (1 << shift),
                                                                 options_.refresh);
  }
  return last_;
}

void KubeRuntimeClassSource::Read(Poll& poll) {
  poll.Time("kubernetes", [&] {
    RuntimeClassSync sync = Refresh();
    poll.snapshot().kube = std::move(sync.state);
    return sync.success;
  });
}

}  // namespace gvisor_exporter
