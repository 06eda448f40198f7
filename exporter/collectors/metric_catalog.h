// Every metric the exporter serves, defined once: name, type, help, labels.
//
// Collectors render families from these definitions, and METRICS.md is
// generated from the same table (`gvisor-exporter --print-metrics-doc`), so the
// documentation cannot drift from the code.
#pragma once

#include <prometheus/metric_type.h>

#include <string>
#include <vector>

namespace gvisor_exporter {

struct MetricDef {
  const char* name;
  prometheus::MetricType type;
  const char* help;
  std::vector<const char*> labels;
  const char* group;  // section in METRICS.md
};

// Named definitions used by the collectors.
namespace metric {
extern const MetricDef kSandboxInfo, kSandboxPlatformInfo, kSandboxStatsPathInfo, kContainerInfo,
    kSandboxMemoryTotal, kSandboxMemory, kSandboxPids, kSandboxNetworkReceiveBytes,
    kSandboxNetworkReceivePackets, kSandboxNetworkReceiveErrors, kSandboxNetworkReceiveDropped,
    kSandboxNetworkTransmitBytes, kSandboxNetworkTransmitPackets, kSandboxNetworkTransmitErrors,
    kSandboxNetworkTransmitDropped, kSandboxCpu, kContainerCpu, kHostProcesses, kHostPss, kHostRss,
    kHostCpu, kHostThreads, kHostContextSwitches, kHostPageFaults, kCgroupMemoryUsage,
    kCgroupMemoryWorkingSet, kCgroupMemoryStat, kCgroupCpuUsage, kCgroupCpu, kMemoryOverhead,
    kMemoryOverheadCgroup, kContainerSyscalls, kContainerSyscallErrors,
    kContainerSyscallsUnimplemented, kContainerSyscallsSampled, kContainerSyscallErrorsSampled,
    kContainerSyscallsUnimplementedSampled, kSyscallTracedSeconds, kSyscallEventsDropped,
    kSyscallSessionState, kTracePackets, kCriUp, kCriInfo, kPodInfo, kPodLabels, kPods,
    kPolicyUnsandboxedPod, kPolicyUnsandboxedPods, kKubernetesApiUp, kRuntimeClassInfo,
    kRuntimeClassOverheadMemory, kRuntimeClassOverheadCpu, kSandboxes, kRunscInfo,
    kKvmDevicePresent, kKvmUsable, kBuildInfo, kCollectorSuccess, kCollectorDuration, kSnapshotAge,
    kPollDuration, kPolls, kErrors, kSuppressedLogs, kSandboxPollDuration;
// The exporter's own process (metric_catalog_process.cc).
extern const MetricDef kProcessCpu, kProcessResidentMemory, kProcessVirtualMemory,
    kProcessVirtualMemoryMax, kProcessStartTime, kProcessOpenFds, kProcessMaxFds;
}  // namespace metric

// All definitions, in documentation order.
const std::vector<const MetricDef*>& AllMetrics();

// Markdown reference of every metric (the content of METRICS.md).
std::string GenerateMetricsMarkdown();

}  // namespace gvisor_exporter
