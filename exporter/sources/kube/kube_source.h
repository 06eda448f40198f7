// RuntimeClasses from the Kubernetes API, on their own schedule: fetched at
// the first poll, then every `refresh`; a failed request is retried with
// backoff (doubling from 1 s up to `refresh`). Runs on the poll thread: a due
// refresh costs the poll at most the client's timeout, every other poll
// nothing.
//
// On failure the last good list is kept (and still maps handlers): classes
// change rarely, and flipping every pod's runtime_class back to the
// --runtime.classes guess during an API server hiccup would be worse than a
// list some minutes old. gvisor_kubernetes_api_up says it is not fresh.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "exporter/common/error_reporter.h"
#include "exporter/model/source.h"
#include "exporter/sources/kube/kube_client.h"

namespace gvisor_exporter {

inline constexpr char kRuntimeClassesPath[] = "/apis/node.k8s.io/v1/runtimeclasses";

struct KubeSourceOptions {
  KubeClientOptions client;
  // Resolution of --kubernetes.api failed (e.g. in-cluster outside a pod):
  // every refresh reports this instead of making a request.
  Status config_error;
  std::chrono::milliseconds refresh{300000};
};

// What one Refresh found.
struct RuntimeClassSync {
  bool success = true;  // false when the last request failed (the state is then !up)
  KubeState state;
};

// Source "kubernetes". Runs before the CRI source, which names pods with
// these classes.
class KubeRuntimeClassSource : public Source {
 public:
  using Clock = std::chrono::steady_clock;
  using Fetch = std::function<StatusOr<std::string>()>;

  KubeRuntimeClassSource(KubeSourceOptions options, ErrorReporter* errors);
  // For tests: a fake fetch and clock.
  KubeRuntimeClassSource(KubeSourceOptions options, ErrorReporter* errors, Fetch fetch,
                         std::function<Clock::time_point()> now);

  // Does I/O only when a refresh is due; otherwise returns the state of the
  // last refresh at once.
  RuntimeClassSync Refresh();
  // Refresh, its state written into the snapshot (NodeSnapshot::kube).
  void Read(Poll& poll) override;

 private:
  Status FetchAndParse();

  KubeSourceOptions options_;
  ErrorReporter* errors_;
  KubeClient client_;
  Fetch fetch_;
  std::function<Clock::time_point()> now_;
  bool attempted_ = false;
  Clock::time_point next_attempt_{};
  int failures_ = 0;  // consecutive
  RuntimeClassSync last_;
};

}  // namespace gvisor_exporter
