// Platform and configuration of a running sandbox, and what the node offers.
//
// Two sources, by runsc release:
//  - the sentry's command line `runsc-sandbox <global flags> boot ... <id>`.
//    runsc builds it with Config.ToFlags(), which (in 20221219) writes only
//    flags that differ from their default, always as `--name=value`; newer
//    releases also write defaults that were set explicitly. An absent flag
//    therefore means "the release's default" (see the table in platform.cc).
//  - the state file's `metricMetadata` (>= release-20230130): platform,
//    network, overlay, fsmode, version, ... (keys from Config.MetricMetadata in
//    runsc/config/config.go). It has no file-access/debug/strace.
// Values end up as metric label values, so they are normalized to a small
// character set and host paths (overlay filestore directories) are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"
#include "exporter/sources/host/cmdline.h"  // ReadCmdline, SplitCmdline

namespace gvisor_exporter {

// The release date YYYYMMDD in a runsc version string ("0.0~20221219.0",
// "release-20230621.0", `runsc --version` output), or 0 when there is none.
uint32_t RunscReleaseDate(std::string_view runsc_version);

// Platform from the sentry's argv. Only global flags (before the subcommand)
// count. Flags absent from the command line get the default of the release
// named by `runsc_version`; when that is unknown, "unknown".
SandboxPlatform PlatformFromCmdline(const std::vector<std::string>& argv,
                                    std::string_view runsc_version);

// Platform from the state file's metricMetadata. Fields the metadata does not
// carry (file_access, debug, strace, pod_init_config) stay "" / false.
SandboxPlatform PlatformFromMetadata(const std::map<std::string, std::string>& metadata);

// Metadata where it has a value (it is written from the final config), the
// command line for the rest. source = "metadata+cmdline".
SandboxPlatform MergePlatform(const SandboxPlatform& from_metadata,
                              const SandboxPlatform& from_cmdline);

// Probes <dev_root>/kvm without creating a VM: present = it is a character
// device; usable = it opens O_RDWR and KVM_GET_API_VERSION returns 12. This
// says the host COULD run the kvm platform, not that runsc's kvm platform
// works: on this project's machines the probe passes and runsc --platform=kvm
// still hangs at start.
NodeInfo ProbeNode(std::string runsc_version, const std::string& dev_root = "/dev");

}  // namespace gvisor_exporter
