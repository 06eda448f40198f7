#include "exporter/sources/cri/cri_source.h"

#include "exporter/common/ids.h"

namespace gvisor_exporter {

namespace {

// Version strings are short; bounded so a hostile runtime cannot bloat labels.
std::string Bounded(const std::string& s) { return s.substr(0, 128); }

}  // namespace

CriPodSource::CriPodSource(CriSourceOptions options, ErrorReporter* errors)
    : options_(std::move(options)), errors_(errors), client_(options_.client) {
  for (const std::string& key : options_.mapping.pod_labels)
    label_names_.push_back(PodLabelName(key));
}

void CriPodSource::Fail(PodSync* out, const Status& s, const char* subject) {
  errors_->Report("cri", s, subject);
  // A missing socket is "no runtime here" (or a clean shutdown), not a
  // failure of the exporter: reported, but collector success stays 1.
  if (s.reason() != Reason::kNotFound) out->success = false;
  out->state.up = false;
  out->state.pods.clear();
  version_.reset();  // re-read after the runtime comes back (it may be upgraded)
}

bool CriPodSource::FetchNewStatuses(const std::vector<CriPod>& pods, CriClient::Deadline deadline) {
  size_t calls = 0;
  for (const CriPod& p : pods) {
    if (verbose_.count(p.id)) continue;
    if (calls++ >= options_.max_status_calls_per_poll ||
        std::chrono::system_clock::now() >= deadline) {
      return true;  // the rest at the next poll
    }
    auto st = client_.PodSandboxStatus(p.id, /*verbose=*/true, deadline);
    if (!st.ok()) {
      if (st.status().reason() == Reason::kNotFound) continue;  // removed since the list
      errors_->Report("cri", st.status(), p.id);
      return false;  // the runtime is struggling: no more calls this poll
    }
    VerboseInfo info;
    auto doc = st->info().find("info");
    if (doc != st->info().end()) {
      auto parsed = ParseVerboseInfo(doc->second);
      if (parsed.ok()) {
        info = std::move(parsed).value();
      } else {
        // Cached as empty all the same: the document will not improve, and
        // the mapping does not need it (the handler comes from the list).
        errors_->Report("cri", parsed.status(), p.id);
      }
    }
    verbose_[p.id] = std::move(info);
  }
  return true;
}

PodSync CriPodSource::Sync(const std::vector<SandboxInfo>& live) {
  const auto deadline = std::chrono::system_clock::now() + options_.timeout;
  PodSync out;
  out.state.label_names = label_names_;
  out.state.policy_namespaces = options_.mapping.policy_namespaces;
  if (!version_) {
    auto v = client_.Version(deadline);
    if (!v.ok()) {
      Fail(&out, v.status(), "Version");
      return out;
    }
    version_ = std::move(v).value();
  }
  auto list = client_.ListPodSandbox(deadline);
  if (!list.ok()) {
    Fail(&out, list.status(), "ListPodSandbox");
    return out;
  }
  out.state.up = true;
  out.state.version = Bounded(version_->version());
  out.state.runtime_name = Bounded(version_->runtime_name());
  out.state.runtime_version = Bounded(version_->runtime_version());

  std::vector<CriPod> pods;
  pods.reserve(std::min<size_t>(list->items_size(), kMaxPods));
  for (const auto& item : list->items()) {
    if (pods.size() >= kMaxPods) {
      errors_->Report(
          "cri", TooLargeError("ListPodSandbox: more than " + std::to_string(kMaxPods) + " pods"),
          "ListPodSandbox");
      out.success = false;
      break;
    }
    auto p = ValidatePod(item, options_.mapping.pod_labels);
    if (!p.ok()) {
      errors_->Report("cri", p.status(), IsValidId(item.id()) ? item.id() : "invalid id");
      continue;
    }
    for (const std::string& key : p->dropped_labels) {
      errors_->Report("cri", TooLargeError("pod " + p->id + ": value of label " + key),
                      p->id + "/" + key);
    }
    pods.push_back(std::move(p).value());
  }

  // Evict ids no longer listed, then learn about the new ones.
  std::set<std::string> listed;
  for (const CriPod& p : pods) listed.insert(p.id);
  std::erase_if(verbose_, [&](const auto& kv) { return !listed.count(kv.first); });
  if (!FetchNewStatuses(pods, deadline)) out.success = false;

  LearnGvisorHandlers(pods, verbose_, live, &learned_handlers_);
  out.state.pods = MapPods(pods, options_.mapping, learned_handlers_, live);
  return out;
}

void CriPodSource::Read(Poll& poll) {
  NodeSnapshot& snap = poll.snapshot();
  std::vector<SandboxInfo> live;
  live.reserve(snap.sandboxes.size());
  for (const SandboxSnapshot& s : snap.sandboxes) live.push_back(s.info);
  PodSync sync;
  poll.Time("cri", [&] {
    sync = Sync(live);
    return sync.success;
  });
  if (snap.kube && snap.kube->runtime_classes) {
    ApplyRuntimeClasses(*snap.kube->runtime_classes, &sync.state.pods);
  }
  std::map<std::string, const PodInfo*> by_id;
  for (const PodInfo& p : sync.state.pods) by_id[p.id] = &p;
  for (SandboxSnapshot& s : snap.sandboxes) {
    auto it = by_id.find(s.info.id);
    if (it == by_id.end()) continue;
    s.runtime_handler = it->second->runtime_handler;
    s.runtime_class = it->second->runtime_class;
  }
  snap.cri = std::move(sync.state);
}

}  // namespace gvisor_exporter
