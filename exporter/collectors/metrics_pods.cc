// Pods from the CRI runtime, their RuntimeClass and the sandboxing policy.
// Absent with CRI off; while the runtime is down only gvisor_cri_up (0): no
// pods at all rather than the last ones seen, since stale pods would keep
// policy alerts firing (or silent) on data nobody refreshed.
#include <array>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

#include "exporter/collectors/metric_catalog.h"

namespace gvisor_exporter {

namespace {

const char* Bool(bool b) { return b ? "true" : "false"; }

// The CRI state when it is up, else null.
const CriState* UpCri(const NodeSnapshot& snap) {
  return snap.cri && snap.cri->up ? &*snap.cri : nullptr;
}

// Policy violations per --policy.sandboxed-namespaces namespace (every listed
// namespace present): sets, as two sandboxes of one pod are one violation.
using Violation = std::array<std::string_view, 4>;  // namespace, pod, uid, handler
std::map<std::string_view, std::set<Violation>> Violations(const CriState& cri) {
  std::map<std::string_view, std::set<Violation>> per_namespace;
  for (const std::string& ns : cri.policy_namespaces) per_namespace[ns];
  for (const PodInfo& p : cri.pods) {
    auto ns = per_namespace.find(p.pod_namespace);
    if (p.policy_violation && ns != per_namespace.end())
      ns->second.insert({p.pod_namespace, p.name, p.uid, p.runtime_handler});
  }
  return per_namespace;
}

const MetricRow kRows[] = {
    // One label per allowlisted key, so its last label names are only known
    // at run time.
    {.name = "gvisor_pod_labels",
     .type = MetricType::Gauge,
     .help =
         "Always 1: the pod labels named by --cri.pod-labels, one label_<key> per key (characters "
         "outside [A-Za-z0-9_] become _, like kube-state-metrics; \"\" when the pod lacks it). One "
         "series per pod (its ready sandbox preferred); absent without --cri.pod-labels.",
     .labels = {"namespace", "pod", "uid", "label_<key>..."},
     .group = "Pods (CRI)",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           const CriState* cri = UpCri(snap);
           if (cri == nullptr || cri->label_names.empty()) return;
           // One series per pod: a pod recreated by kubelet briefly has a NOTREADY
           // sandbox beside the ready one, with the same namespace, name and uid.
           std::map<std::tuple<std::string_view, std::string_view, std::string_view>,
                    const PodInfo*>
               by_pod;
           for (const PodInfo& p : cri->pods) {
             if (p.labels.size() != cri->label_names.size()) continue;
             auto [it, inserted] = by_pod.try_emplace({p.pod_namespace, p.name, p.uid}, &p);
             if (!inserted && p.ready && !it->second->ready) it->second = &p;
           }
           for (const auto& [key, p] : by_pod) {
             w.Add({p->pod_namespace, p->name, p->uid}, cri->label_names, p->labels, 1);
           }
         },
     .doc_after = "gvisor_pod_info"},
    {.name = "gvisor_cri_up",
     .type = MetricType::Gauge,
     .help =
         "1 when the CRI runtime (--cri.endpoint) answered at the last poll, 0 when not (pod and "
         "policy series are then absent, sandbox series keep flowing). A missing socket (no "
         "runtime "
         "on the node, or a clean shutdown) is down without failing the collector; reasons in "
         "gvisor_exporter_errors_total{source=\"cri\"}. Absent with --cri.endpoint=\"\".",
     .labels = {},
     .group = "Pods (CRI)",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           if (snap.cri) w.Add({}, snap.cri->up ? 1 : 0);
         }},
    {.name = "gvisor_cri_info",
     .type = MetricType::Gauge,
     .help = "Always 1 while the CRI runtime is up: its CRI version, name and version (CRI "
             "Version).",
     .labels = {"version", "runtime_name", "runtime_version"},
     .group = "Pods (CRI)",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           if (const CriState* cri = UpCri(snap))
             w.Add({cri->version, cri->runtime_name, cri->runtime_version}, 1);
         }},
    {.name = "gvisor_pod_info",
     .type = MetricType::Gauge,
     .help =
         "Always 1: one series per pod sandbox the CRI runtime lists, gVisor or not. "
         "runtime_handler "
         "is the RuntimeClass handler (\"\" = the runtime's default), runtime_class its name (from "
         "the Kubernetes API's RuntimeClasses once --kubernetes.api has listed them, else from "
         "--runtime.classes), sandboxed=\"true\" when the handler runs gVisor (--runtime.handlers, "
         "or "
         "one of its pods is a sandbox under a runsc root), state ready or notready.",
     .labels = {"namespace", "pod", "uid", "pod_sandbox_id", "runtime_handler", "runtime_class",
                "sandboxed", "state"},
     .group = "Pods (CRI)",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           const CriState* cri = UpCri(snap);
           if (cri == nullptr) return;
           for (const PodInfo& p : cri->pods) {
             w.Add({p.pod_namespace, p.name, p.uid, p.id, p.runtime_handler, p.runtime_class,
                    Bool(p.sandboxed), p.ready ? "ready" : "notready"},
                   1);
           }
         }},
    {.name = "gvisor_pods",
     .type = MetricType::Gauge,
     .help = "Pod sandboxes the CRI runtime lists, by handler and whether it is gVisor.",
     .labels = {"runtime_handler", "sandboxed"},
     .group = "Pods (CRI)",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           const CriState* cri = UpCri(snap);
           if (cri == nullptr) return;
           std::map<std::pair<std::string_view, bool>, uint64_t> per_handler;
           for (const PodInfo& p : cri->pods) ++per_handler[{p.runtime_handler, p.sandboxed}];
           for (const auto& [key, n] : per_handler) {
             w.Add({key.first, Bool(key.second)}, static_cast<double>(n));
           }
         }},
    {.name = "gvisor_policy_unsandboxed_pod",
     .type = MetricType::Gauge,
     .help = "Always 1: a ready pod in a --policy.sandboxed-namespaces namespace that does not "
             "run under a gVisor handler (the pods a sandboxing admission policy should have "
             "stopped).",
     .labels = {"namespace", "pod", "uid", "runtime_handler"},
     .group = "Pods (CRI)",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           const CriState* cri = UpCri(snap);
           if (cri == nullptr) return;
           for (const auto& [ns, set] : Violations(*cri)) {
             for (const Violation& v : set) w.Add({v[0], v[1], v[2], v[3]}, 1);
           }
         }},
    {.name = "gvisor_policy_unsandboxed_pods",
     .type = MetricType::Gauge,
     .help =
         "Ready pods not running under gVisor per --policy.sandboxed-namespaces namespace (0 when "
         "none; a series per listed namespace while the CRI runtime is up).",
     .labels = {"namespace"},
     .group = "Pods (CRI)",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           const CriState* cri = UpCri(snap);
           if (cri == nullptr) return;
           for (const auto& [ns, set] : Violations(*cri)) {
             w.Add({ns}, static_cast<double>(set.size()));
           }
         }},
};

}  // namespace

std::span<const MetricRow> PodMetrics() { return kRows; }

}  // namespace gvisor_exporter
