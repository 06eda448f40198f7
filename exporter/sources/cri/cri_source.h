// The CRI pod source: per poll one ListPodSandbox (plus Version after a
// (re)connect, and a verbose PodSandboxStatus for each pod id not seen
// before), all under one deadline, mapped by pod_mapper. When the runtime is
// unreachable the poll reports it down with no pods: nothing stale is served,
// and the next poll tries again (gRPC reconnects with backoff meanwhile).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "exporter/common/error_reporter.h"
#include "exporter/model/source.h"
#include "exporter/sources/cri/cri_client.h"
#include "exporter/sources/cri/pod_mapper.h"
#include "exporter/sources/cri/verbose_info.h"

namespace gvisor_exporter {

struct CriSourceOptions {
  CriClientOptions client;
  MappingConfig mapping;
  // Budget of the whole Sync (every call of one poll shares it).
  std::chrono::milliseconds timeout{2000};
  // Verbose status calls per poll; more new pods wait for the next poll.
  size_t max_status_calls_per_poll = 64;
};

// What one Sync found.
struct PodSync {
  bool success = true;  // false when a call failed this poll (the runtime down included)
  CriState state;       // state.up false: runtime unreachable, no pods
};

// Source "cri". Runs after the Kubernetes source: its RuntimeClasses, when
// there are any, name the pods (ApplyRuntimeClasses).
class CriPodSource : public Source {
 public:
  CriPodSource(CriSourceOptions options, ErrorReporter* errors);
  // Once per poll, with the live sandboxes (they tell which pods run under
  // gVisor). Bounded by the options' timeout; never one call per pod per poll.
  PodSync Sync(const std::vector<SandboxInfo>& live);
  // Sync, then the pods written into the snapshot (NodeSnapshot::cri) and
  // each sandbox given its pod's RuntimeClass handler and name.
  void Read(Poll& poll) override;

  // For tests: ids whose verbose status is cached.
  size_t cached_status_count() const { return verbose_.size(); }

 private:
  // Fetches verbose status of listed pods not seen before; false when a call
  // failed for another reason than the pod being gone.
  bool FetchNewStatuses(const std::vector<CriPod>& pods, CriClient::Deadline deadline);
  void Fail(PodSync* out, const Status& s, const char* subject);

  CriSourceOptions options_;
  ErrorReporter* errors_;
  CriClient client_;
  std::optional<runtime::v1::VersionResponse> version_;  // reset when the runtime goes away
  std::map<std::string, VerboseInfo> verbose_;           // by pod id, listed pods only
  std::set<std::string> learned_handlers_;               // sticky: handlers seen running gVisor
  std::vector<std::string> label_names_;
};

}  // namespace gvisor_exporter
