#include <map>
#include <set>
#include <tuple>

#include "exporter/collectors/family_builder.h"
#include "exporter/collectors/render.h"

namespace gvisor_exporter {

namespace {

const char* Bool(bool b) { return b ? "true" : "false"; }

// gvisor_pod_labels has one label per allowlisted key, so its label names
// are only known at run time and FamilyBuilder's fixed arity does not apply.
void RenderPodLabels(const CriState& cri, Families* out) {
  if (cri.label_names.empty()) return;
  // One series per pod: a pod recreated by kubelet briefly has a NOTREADY
  // sandbox beside the ready one, with the same namespace, name and uid.
  std::map<std::tuple<std::string, std::string, std::string>, const PodInfo*> by_pod;
  for (const PodInfo& p : cri.pods) {
    if (p.labels.size() != cri.label_names.size()) continue;
    auto [it, inserted] = by_pod.try_emplace({p.pod_namespace, p.name, p.uid}, &p);
    if (!inserted && p.ready && !it->second->ready) it->second = &p;
  }
  prometheus::MetricFamily f;
  f.name = metric::kPodLabels.name;
  f.help = metric::kPodLabels.help;
  f.type = metric::kPodLabels.type;
  for (const auto& [key, p] : by_pod) {
    prometheus::ClientMetric m;
    m.label.push_back({"namespace", SanitizeLabelValue(p->pod_namespace)});
    m.label.push_back({"pod", SanitizeLabelValue(p->name)});
    m.label.push_back({"uid", SanitizeLabelValue(p->uid)});
    for (size_t i = 0; i < cri.label_names.size(); ++i) {
      m.label.push_back({cri.label_names[i], SanitizeLabelValue(p->labels[i])});
    }
    m.gauge.value = 1;
    f.metric.push_back(std::move(m));
  }
  if (!f.metric.empty()) out->push_back(std::move(f));
}

}  // namespace

void RenderPods(const NodeSnapshot& snap, Families* out) {
  using namespace metric;  // NOLINT(google-build-using-namespace)
  if (!snap.cri) return;   // CRI off
  const CriState& cri = *snap.cri;
  FamilyBuilder up(kCriUp), info(kCriInfo), pod_info(kPodInfo), pods(kPods),
      violation(kPolicyUnsandboxedPod), violations(kPolicyUnsandboxedPods);
  up.Add({}, cri.up ? 1 : 0);
  if (cri.up) {
    // Down means no pods at all rather than the last ones seen: stale pods
    // would keep policy alerts firing (or silent) on data nobody refreshed.
    info.Add({cri.version, cri.runtime_name, cri.runtime_version}, 1);
    std::map<std::pair<std::string, bool>, uint64_t> per_handler;
    std::map<std::string, std::set<std::vector<std::string>>> per_namespace;
    for (const std::string& ns : cri.policy_namespaces) per_namespace[ns];
    for (const PodInfo& p : cri.pods) {
      pod_info.Add({p.pod_namespace, p.name, p.uid, p.id, p.runtime_handler, p.runtime_class,
                    Bool(p.sandboxed), p.ready ? "ready" : "notready"},
                   1);
      ++per_handler[{p.runtime_handler, p.sandboxed}];
      auto ns = per_namespace.find(p.pod_namespace);
      // Sets: two sandboxes of one pod are one violation.
      if (p.policy_violation && ns != per_namespace.end())
        ns->second.insert({p.pod_namespace, p.name, p.uid, p.runtime_handler});
    }
    for (const auto& [key, n] : per_handler) {
      pods.Add({key.first, Bool(key.second)}, static_cast<double>(n));
    }
    for (const auto& [ns, set] : per_namespace) {
      violations.Add({ns}, static_cast<double>(set.size()));
      for (const auto& labels : set) violation.Add(labels, 1);
    }
    RenderPodLabels(cri, out);
  }
  for (FamilyBuilder* f : {&up, &info, &pod_info, &pods, &violation, &violations}) f->MoveTo(out);
}

}  // namespace gvisor_exporter
