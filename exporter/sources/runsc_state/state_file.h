// Parsing of one runsc state file (`<container-id>_sandbox:<sandbox-id>.state`).
//
// The file is untrusted input: anyone who can write into a runsc root (or a
// bug in runsc, or a reader racing runsc's truncate-then-write) can put
// anything there. ParseStateFile therefore validates everything it returns:
//   - container and sandbox ids pass IsValidId (else kInvalid);
//   - cgroup paths are made absolute (runsc's v2 paths are relative to the
//     mountpoint), must be <= kMaxCgroupPathBytes, contain no NUL and no "."
//     or ".." component (else the whole file is rejected as kInvalid: runsc
//     never writes such a path, so the file is not to be trusted); an empty
//     path gives kind kNone (it would name the host's root cgroup);
//   - the control socket path must be absolute, with the same rules;
//   - annotation, pod and metadata strings are TRUNCATED to
//     kMaxAnnotationValueBytes at a UTF-8 boundary (long values are legal but
//     useless as label values; rejecting would hide a live sandbox);
//   - metricMetadata keeps at most kMaxMetricMetadataEntries string entries;
//   - an unrecognised status becomes "unknown";
//   - pids outside 1..kMaxPid become 0 (unknown), so liveness fails safely.
// It never throws: JSON goes through ParseJson (nesting depth limit).
//
// The input size limit is the caller's job; kDefaultMaxStateFileBytes (4 MiB)
// is the suggested bound: real files are 2-10 KB, but the embedded OCI spec
// (env, mounts, annotations) can legitimately grow large.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

inline constexpr size_t kDefaultMaxStateFileBytes = 4 << 20;
inline constexpr size_t kMaxCgroupPathBytes = 4096;
inline constexpr size_t kMaxAnnotationValueBytes = 1024;
inline constexpr size_t kMaxMetricMetadataEntries = 64;
inline constexpr int64_t kMaxPid = 1 << 22;  // PID_MAX_LIMIT on 64-bit Linux.

// The CRI annotations runsc copies from the OCI spec (all optional).
struct CriAnnotations {
  std::string container_type;     // io.kubernetes.cri.container-type: sandbox|container
  std::string sandbox_id;         // io.kubernetes.cri.sandbox-id
  std::string sandbox_name;       // io.kubernetes.cri.sandbox-name (pod name)
  std::string sandbox_namespace;  // io.kubernetes.cri.sandbox-namespace
  std::string sandbox_uid;        // io.kubernetes.cri.sandbox-uid
  std::string container_name;     // io.kubernetes.cri.container-name
  std::string image_name;         // io.kubernetes.cri.image-name
  // gvisor-exporter.io/syscalls: a pod's opt-in to syscall statistics. Pod
  // annotations reach the OCI spec only when containerd's runtime config
  // passes them through (pod_annotations = ["gvisor-exporter.io/*"]).
  std::string syscalls;
};

struct ParsedStateFile {
  std::string container_id;  // top-level "id"
  std::string sandbox_id;    // "sandbox.id"
  std::string status;        // creating|created|running|paused|stopped|unknown
  int64_t sandbox_pid = 0;   // "sandbox.pid": the sentry; 0 when absent/invalid
  int64_t gofer_pid = 0;     // "goferPid"; 0 when absent/invalid
  std::string created_at;    // "createdAt" (RFC3339), unvalidated but bounded
  CriAnnotations annotations;
  CgroupRef cgroup;                                    // "sandbox.cgroup"
  std::string control_socket_path;                     // "sandbox.controlSocketPath" (>= 20230920)
  std::map<std::string, std::string> metric_metadata;  // "sandbox.metricMetadata" (>= 20230130)
  std::string pod_name;                                // "sandbox.podName" (newer releases)
  std::string pod_namespace;                           // "sandbox.namespace" (newer releases)
};

// Parses and validates one state file's contents. Errors: kParse (malformed
// JSON, not an object, missing ids), kTooLarge (nested too deep), kInvalid
// (bad id, bad cgroup or socket path).
StatusOr<ParsedStateFile> ParseStateFile(std::string_view text);

// Splits a directory entry name `<container-id>_sandbox:<sandbox-id>.state`.
// Returns false (quietly: other files live in a root) when the name does not
// have that shape; ids are returned unvalidated, the caller checks them.
bool SplitStateFileName(std::string_view name, std::string* container_id, std::string* sandbox_id);

// Checks a host path from a state file: absolute, <= kMaxCgroupPathBytes, no
// NUL, no "." or ".." component. Exposed for tests.
Status ValidateHostPath(std::string_view path);

}  // namespace gvisor_exporter
