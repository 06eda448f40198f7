#include "exporter/sources/runsc_state/state_file.h"

#include <array>
#include <utility>

#include "exporter/common/ids.h"
#include "exporter/common/json_util.h"
#include "exporter/common/text.h"

namespace gvisor_exporter {

namespace {

using nlohmann::json;

constexpr std::string_view kStateSuffix = ".state";
constexpr std::string_view kSandboxSep = "_sandbox:";

// A bounded string field; absent or non-string gives "".
std::string BoundedString(const json& obj, const char* key) {
  std::string out;
  if (!GetString(obj, key, &out)) return "";
  // Parsed JSON strings are valid UTF-8 (nlohmann rejects anything else), and
  // cutting on a character boundary keeps them so.
  out.resize(Utf8Prefix(out, kMaxAnnotationValueBytes).size());
  return out;
}

// A pid field; absent, non-integer or out of range gives 0 (unknown).
int64_t PidField(const json& obj, const char* key) {
  int64_t pid = 0;
  if (!GetInt(obj, key, &pid) || pid <= 0 || pid > kMaxPid) return 0;
  return pid;
}

const json& Member(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string NormalizeStatus(const std::string& s) {
  static constexpr std::array<std::string_view, 5> kKnown = {"creating", "created", "running",
                                                             "paused", "stopped"};
  for (std::string_view k : kKnown) {
    if (s == k) return s;
  }
  return "unknown";
}

CriAnnotations ParseAnnotations(const json& annotations) {
  CriAnnotations a;
  a.container_type = BoundedString(annotations, "io.kubernetes.cri.container-type");
  a.sandbox_id = BoundedString(annotations, "io.kubernetes.cri.sandbox-id");
  a.sandbox_name = BoundedString(annotations, "io.kubernetes.cri.sandbox-name");
  a.sandbox_namespace = BoundedString(annotations, "io.kubernetes.cri.sandbox-namespace");
  a.sandbox_uid = BoundedString(annotations, "io.kubernetes.cri.sandbox-uid");
  a.container_name = BoundedString(annotations, "io.kubernetes.cri.container-name");
  a.image_name = BoundedString(annotations, "io.kubernetes.cri.image-name");
  a.syscalls = BoundedString(annotations, "gvisor-exporter.io/syscalls");
  return a;
}

// systemd's slice naming: "a-b.slice" lives at /a.slice/a-b.slice ("-.slice" is the root).
std::string ExpandSlice(std::string_view slice) {
  constexpr std::string_view kSuffix = ".slice";
  if (slice.ends_with(kSuffix)) slice.remove_suffix(kSuffix.size());
  if (slice.empty() || slice == "-") return "";
  std::string path, prefix;
  size_t start = 0;
  while (start <= slice.size()) {
    size_t dash = slice.find('-', start);
    if (dash == std::string_view::npos) dash = slice.size();
    prefix.append(slice.substr(start, dash - start));
    path += "/" + prefix + std::string(kSuffix);
    prefix += "-";
    start = dash + 1;
  }
  return path;
}

// runsc records the full unified path in "path"; older layouts only have the
// slice/scope parts, from which the path follows systemd's naming scheme.
std::string SystemdPath(const json& cg) {
  std::string path, parent, prefix, name;
  if (GetString(cg, "path", &path) && !path.empty()) return path;
  GetString(cg, "Parent", &parent);
  GetString(cg, "ScopePrefix", &prefix);
  GetString(cg, "Name", &name);
  if (name.empty()) return "";
  const std::string unit = name.ends_with(".slice") ? name : prefix + "-" + name + ".scope";
  return ExpandSlice(parent) + "/" + unit;
}

StatusOr<CgroupRef> ParseCgroup(const json& cgroup) {
  CgroupRef ref;
  if (!cgroup.is_object()) return ref;  // null / absent: no cgroup
  if (const json& v1 = Member(cgroup, "cgroupv1"); v1.is_object()) {
    ref.kind = CgroupRef::Kind::kV1;
    GetString(v1, "name", &ref.path);
  } else if (const json& v2 = Member(cgroup, "cgroupv2"); v2.is_object()) {
    ref.kind = CgroupRef::Kind::kV2;
    GetString(v2, "path", &ref.path);
    GetString(v2, "mountpoint", &ref.mountpoint);
  } else if (const json& sd = Member(cgroup, "cgroupsystemd"); sd.is_object()) {
    ref.kind = CgroupRef::Kind::kSystemd;
    ref.path = SystemdPath(sd);
    GetString(sd, "mountpoint", &ref.mountpoint);
  } else {
    return ref;  // cgroupunknown or something newer: no cgroup to read
  }
  // An empty path would name the hierarchy root, i.e. the whole host: never
  // attribute that to one sandbox.
  if (ref.path.empty()) return CgroupRef{};
  // runsc's v2 paths are relative to the mountpoint; make all kinds absolute.
  if (ref.path[0] != '/') ref.path.insert(0, "/");
  GVE_RETURN_IF_ERROR(ValidateHostPath(ref.path).WithContext("cgroup path"));
  if (!ref.mountpoint.empty()) {
    GVE_RETURN_IF_ERROR(ValidateHostPath(ref.mountpoint).WithContext("cgroup mountpoint"));
  }
  return ref;
}

std::map<std::string, std::string> ParseMetricMetadata(const json& md) {
  std::map<std::string, std::string> out;
  if (!md.is_object()) return out;
  for (auto it = md.begin(); it != md.end() && out.size() < kMaxMetricMetadataEntries; ++it) {
    if (!it.value().is_string()) continue;  // documented as a flat string map
    std::string key = it.key();
    std::string value = it.value().get<std::string>();
    key.resize(Utf8Prefix(key, kMaxAnnotationValueBytes).size());
    value.resize(Utf8Prefix(value, kMaxAnnotationValueBytes).size());
    out.emplace(std::move(key), std::move(value));
  }
  return out;
}

Status ParseIds(const json& root, const json& sandbox, ParsedStateFile* out) {
  if (!GetString(root, "id", &out->container_id)) return ParseError("state file has no \"id\"");
  if (!GetString(sandbox, "id", &out->sandbox_id)) {
    return ParseError("state file has no \"sandbox.id\"");
  }
  if (!IsValidId(out->container_id)) return InvalidError("invalid container id in state file");
  if (!IsValidId(out->sandbox_id)) return InvalidError("invalid sandbox id in state file");
  return Status::Ok();
}

}  // namespace

Status ValidateHostPath(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return InvalidError("path contains NUL");
  if (path.empty() || path[0] != '/') return InvalidError("path is not absolute");
  if (path.size() > kMaxCgroupPathBytes) return InvalidError("path too long");
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view comp = path.substr(start, slash - start);
    if (comp == "." || comp == "..") return InvalidError("path has a . or .. component");
    start = slash + 1;
  }
  return Status::Ok();
}

StatusOr<ParsedStateFile> ParseStateFile(std::string_view text) {
  StatusOr<json> parsed = ParseJson(text);
  if (!parsed.ok()) return parsed.status();
  const json& root = *parsed;
  if (!root.is_object()) return ParseError("state file is not a JSON object");
  const json& sandbox = Member(root, "sandbox");

  ParsedStateFile out;
  GVE_RETURN_IF_ERROR(ParseIds(root, sandbox, &out));
  std::string status;
  GetString(root, "status", &status);
  out.status = NormalizeStatus(status);
  out.sandbox_pid = PidField(sandbox, "pid");
  out.gofer_pid = PidField(root, "goferPid");
  out.created_at = BoundedString(root, "createdAt");
  out.annotations = ParseAnnotations(Member(Member(root, "spec"), "annotations"));
  // Newer releases write these in the sandbox object (runsc's sandbox.Sandbox),
  // not at the top level: verified on a real 20240729 state file.
  out.pod_name = BoundedString(sandbox, "podName");
  out.pod_namespace = BoundedString(sandbox, "namespace");
  out.metric_metadata = ParseMetricMetadata(Member(sandbox, "metricMetadata"));

  StatusOr<CgroupRef> cgroup = ParseCgroup(Member(sandbox, "cgroup"));
  if (!cgroup.ok()) return cgroup.status();
  out.cgroup = std::move(cgroup).value();

  if (GetString(sandbox, "controlSocketPath", &out.control_socket_path) &&
      !out.control_socket_path.empty()) {
    GVE_RETURN_IF_ERROR(ValidateHostPath(out.control_socket_path).WithContext("control socket"));
  }
  return out;
}

bool SplitStateFileName(std::string_view name, std::string* container_id, std::string* sandbox_id) {
  if (!name.ends_with(kStateSuffix)) return false;
  name.remove_suffix(kStateSuffix.size());
  const size_t sep = name.find(kSandboxSep);
  if (sep == std::string_view::npos) return false;
  *container_id = std::string(name.substr(0, sep));
  *sandbox_id = std::string(name.substr(sep + kSandboxSep.size()));
  return true;
}

}  // namespace gvisor_exporter
