#include "exporter/sources/cri/pod_mapper.h"

#include <algorithm>
#include <tuple>

#include "exporter/common/ids.h"
#include "exporter/common/text.h"

namespace gvisor_exporter {

namespace {

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool AllNameChars(std::string_view s) { return std::all_of(s.begin(), s.end(), NameChar); }

}  // namespace

bool IsValidCriName(std::string_view s) {
  return !s.empty() && s.size() <= kMaxCriNameBytes && AllNameChars(s);
}

bool IsValidLabelKey(std::string_view key) {
  std::string_view name = key;
  if (const size_t slash = key.find('/'); slash != std::string_view::npos) {
    const std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (!IsValidCriName(prefix) || prefix.find('_') != std::string_view::npos) return false;
  }
  return !name.empty() && name.size() <= 63 && AllNameChars(name);
}

std::string PodLabelName(std::string_view key) {
  std::string out = "label_";
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

StatusOr<CriPod> ValidatePod(const runtime::v1::PodSandbox& item,
                             const std::vector<std::string>& pod_labels) {
  if (!IsValidId(item.id())) return InvalidError("pod sandbox id " + QuotedForMessage(item.id()));
  const auto& md = item.metadata();
  // Kubernetes requires name and namespace; uid and handler may be empty
  // (pods made by other CRI clients; "" is the runtime's default handler).
  struct Field {
    const char* what;
    const std::string& value;
    bool may_be_empty;
  };
  const Field fields[] = {{"name", md.name(), false},
                          {"namespace", md.namespace_(), false},
                          {"uid", md.uid(), true},
                          {"runtime_handler", item.runtime_handler(), true}};
  for (const Field& f : fields) {
    if (f.value.empty() && f.may_be_empty) continue;
    if (!IsValidCriName(f.value)) {
      return InvalidError("pod " + item.id() + ": " + f.what + " " + QuotedForMessage(f.value));
    }
  }
  CriPod p;
  p.id = item.id();
  p.name = md.name();
  p.pod_namespace = md.namespace_();
  p.uid = md.uid();
  p.runtime_handler = item.runtime_handler();
  p.ready = item.state() == runtime::v1::SANDBOX_READY;
  p.labels.reserve(pod_labels.size());
  for (const std::string& key : pod_labels) {
    auto it = item.labels().find(key);
    if (it == item.labels().end()) {
      p.labels.emplace_back();
    } else if (it->second.size() > kMaxCriLabelValueBytes) {
      p.labels.emplace_back();
      p.dropped_labels.push_back(key);
    } else {
      p.labels.push_back(it->second);
    }
  }
  return p;
}

void LearnGvisorHandlers(const std::vector<CriPod>& pods,
                         const std::map<std::string, VerboseInfo>& verbose,
                         const std::vector<SandboxInfo>& live, std::set<std::string>* learned) {
  std::set<std::string> sandbox_ids;
  for (const SandboxInfo& s : live) sandbox_ids.insert(s.id);
  for (const CriPod& p : pods) {
    if (learned->count(p.runtime_handler)) continue;
    auto v = verbose.find(p.id);
    const bool runsc_shim = v != verbose.end() && v->second.runtime_type == kRunscRuntimeType;
    if (!sandbox_ids.count(p.id) && !runsc_shim) continue;
    // Bounded: handlers come from containerd's config, a handful per node.
    if (learned->size() < kMaxLearnedHandlers) learned->insert(p.runtime_handler);
  }
}

std::vector<PodInfo> MapPods(const std::vector<CriPod>& pods, const MappingConfig& config,
                             const std::set<std::string>& learned_handlers,
                             const std::vector<SandboxInfo>& live) {
  std::set<std::string> sandbox_ids;
  for (const SandboxInfo& s : live) sandbox_ids.insert(s.id);
  const std::set<std::string> policy(config.policy_namespaces.begin(),
                                     config.policy_namespaces.end());
  std::vector<PodInfo> out;
  out.reserve(std::min(pods.size(), kMaxPods));
  for (const CriPod& p : pods) {
    if (out.size() >= kMaxPods) break;
    PodInfo i;
    i.id = p.id;
    i.name = p.name;
    i.pod_namespace = p.pod_namespace;
    i.uid = p.uid;
    i.ready = p.ready;
    i.runtime_handler = p.runtime_handler;
    if (auto c = config.runtime_classes.find(p.runtime_handler); c != config.runtime_classes.end())
      i.runtime_class = c->second;
    i.sandboxed = config.gvisor_handlers.count(p.runtime_handler) ||
                  learned_handlers.count(p.runtime_handler) || sandbox_ids.count(p.id);
    // Only ready sandboxes: a NOTREADY one is stopped (no workload runs in
    // it) and usually sits beside the ready sandbox that replaced it.
    i.policy_violation = i.ready && !i.sandboxed && policy.count(p.pod_namespace);
    i.labels = p.labels;
    out.push_back(std::move(i));
  }
  std::sort(out.begin(), out.end(), [](const PodInfo& a, const PodInfo& b) {
    return std::tie(a.pod_namespace, a.name, a.id) < std::tie(b.pod_namespace, b.name, b.id);
  });
  return out;
}

StatusOr<std::map<std::string, std::string>> ParseRuntimeClasses(std::string_view flag) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= flag.size()) {
    size_t end = flag.find(',', start);
    if (end == std::string_view::npos) end = flag.size();
    const std::string_view pair = flag.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      return InvalidError("--runtime.classes: want handler=class, got " + QuotedForMessage(pair));
    }
    const std::string handler(pair.substr(0, eq)), cls(pair.substr(eq + 1));
    if (!IsValidCriName(handler) || !IsValidCriName(cls)) {
      return InvalidError("--runtime.classes: bad handler or class in " + QuotedForMessage(pair));
    }
    if (!out.emplace(handler, cls).second) {
      return InvalidError("--runtime.classes: handler " + handler + " given twice");
    }
  }
  return out;
}

void ApplyRuntimeClasses(const std::vector<RuntimeClassInfo>& classes, std::vector<PodInfo>* pods) {
  // Several classes may share a handler; CRI only knows the handler, so the
  // first by name wins, deterministically.
  std::map<std::string, std::string> by_handler;
  for (const RuntimeClassInfo& c : classes) {
    auto [it, inserted] = by_handler.emplace(c.handler, c.name);
    if (!inserted && c.name < it->second) it->second = c.name;
  }
  for (PodInfo& p : *pods) {
    auto it = by_handler.find(p.runtime_handler);
    p.runtime_class = it == by_handler.end() ? "" : it->second;
  }
}

}  // namespace gvisor_exporter
