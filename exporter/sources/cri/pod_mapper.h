// Pure mapping from what the CRI runtime lists to the exporter's pods:
// validation of every field (CRI replies are input like any other), which
// handlers are gVisor, RuntimeClass names, the label allowlist and the
// sandboxed-namespaces policy. No I/O, so every rule is unit-tested on
// recorded replies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"
#include "exporter/sources/cri/verbose_info.h"
#include "proto/cri_runtime.pb.h"

namespace gvisor_exporter {

// Bounds on what one poll maps (a node runs ~110 pods by default).
inline constexpr size_t kMaxPods = 4096;
inline constexpr size_t kMaxPodLabels = 32;            // --cri.pod-labels entries
inline constexpr size_t kMaxLearnedHandlers = 64;      // handlers learned as gVisor
inline constexpr size_t kMaxCriNameBytes = 253;        // DNS subdomain, Kubernetes' longest name
inline constexpr size_t kMaxCriLabelValueBytes = 256;  // kMaxLabelValueBytes of the collectors

struct MappingConfig {
  std::set<std::string> gvisor_handlers;               // --runtime.handlers
  std::map<std::string, std::string> runtime_classes;  // --runtime.classes: handler -> class
  std::vector<std::string> pod_labels;                 // --cri.pod-labels: label keys
  std::vector<std::string> policy_namespaces;          // --policy.sandboxed-namespaces
};

// One ListPodSandbox item after validation.
struct CriPod {
  std::string id, name, pod_namespace, uid, runtime_handler;
  bool ready = false;
  // Values of the allowlisted keys ("" when unset), in allowlist order.
  std::vector<std::string> labels;
  // Allowlisted label values that were over the bound and dropped.
  std::vector<std::string> dropped_labels;
};

// Kubernetes-style names (namespace, pod name, uid, handler): 1..253 bytes of
// [A-Za-z0-9._-]; uid and handler may also be empty.
bool IsValidCriName(std::string_view s);

// Checks one ListPodSandbox item; fails with kInvalid (and the offending
// value in the message) when the id or a metadata field is not acceptable.
StatusOr<CriPod> ValidatePod(const runtime::v1::PodSandbox& item,
                             const std::vector<std::string>& pod_labels);

// A label key as Kubernetes allows it: [prefix/]name, prefix a DNS subdomain
// (<= 253), name <= 63 bytes of [A-Za-z0-9._-].
bool IsValidLabelKey(std::string_view key);

// The exposed label name of a pod label key, as kube-state-metrics does:
// "label_" + the key with every byte outside [A-Za-z0-9_] replaced by '_'.
std::string PodLabelName(std::string_view key);

// Adds to `learned` (bounded by kMaxLearnedHandlers) every handler that
// demonstrably runs gVisor: one of its pods is a live sandbox under a runsc
// root, or its verbose status names runsc's containerd shim.
void LearnGvisorHandlers(const std::vector<CriPod>& pods,
                         const std::map<std::string, VerboseInfo>& verbose,
                         const std::vector<SandboxInfo>& live, std::set<std::string>* learned);

// Maps every pod, sorted by (namespace, name, id). A pod is sandboxed when
// its handler is gVisor (flag or learned) or its id is a live sandbox.
std::vector<PodInfo> MapPods(const std::vector<CriPod>& pods, const MappingConfig& config,
                             const std::set<std::string>& learned_handlers,
                             const std::vector<SandboxInfo>& live);

// Names each pod's RuntimeClass from the Kubernetes API's list, which then
// replaces --runtime.classes entirely (a handler no class declares gets "").
void ApplyRuntimeClasses(const std::vector<RuntimeClassInfo>& classes, std::vector<PodInfo>* pods);

// Parses "runsc=gvisor,runsc-kvm=gvisor-kvm" into handler -> class.
StatusOr<std::map<std::string, std::string>> ParseRuntimeClasses(std::string_view flag);

}  // namespace gvisor_exporter
