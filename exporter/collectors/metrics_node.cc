// Node-level facts: sandboxes per runsc root, the runsc version, KVM.
#include <map>
#include <string_view>

#include "exporter/collectors/metric_catalog.h"

namespace gvisor_exporter {

namespace {

const MetricRow kRows[] = {
    {.name = "gvisor_sandboxes",
     .type = MetricType::Gauge,
     .help = "Running sandboxes found under each runsc root.",
     .labels = {"root"},
     .group = "Node",
     .node =
         [](const NodeSnapshot& snap, Samples& w) {
           // Every existing root gets a series, 0 included, so an emptied root
           // reads 0 rather than vanishing.
           std::map<std::string_view, uint64_t> per_root;
           for (const std::string& r : snap.roots) per_root[r] = 0;
           for (const SandboxSnapshot& s : snap.sandboxes) ++per_root[s.info.root];
           for (const auto& [root, n] : per_root) w.Add({root}, static_cast<double>(n));
         }},
    {.name = "gvisor_runsc_info",
     .type = MetricType::Gauge,
     .help = "Always 1: the runsc binary found on the node and its version (version=\"\" when "
             "runsc is not installed or did not answer).",
     .labels = {"version"},
     .group = "Node",
     .node = [](const NodeSnapshot& snap, Samples& w) { w.Add({snap.node.runsc_version}, 1); }},
    {.name = "gvisor_node_kvm_device_present",
     .type = MetricType::Gauge,
     .help = "1 when /dev/kvm exists as a character device.",
     .labels = {},
     .group = "Node",
     .node = [](const NodeSnapshot& snap,
                Samples& w) { w.Add({}, snap.node.kvm_device_present ? 1 : 0); }},
    {.name = "gvisor_node_kvm_usable",
     .type = MetricType::Gauge,
     .help = "1 when /dev/kvm opens read-write and answers KVM_GET_API_VERSION (12). Necessary, "
             "not sufficient, for runsc's kvm platform.",
     .labels = {},
     .group = "Node",
     .node = [](const NodeSnapshot& snap, Samples& w) { w.Add({}, snap.node.kvm_usable ? 1 : 0); }},
};

}  // namespace

std::span<const MetricRow> NodeMetrics() { return kRows; }

}  // namespace gvisor_exporter
