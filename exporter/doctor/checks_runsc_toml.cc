// A handler's runsc.toml (containerd-shim-runsc-v1's ConfigPath) and the
// pod-init config it may name.
#include <sys/stat.h>

#include <utility>

#include "exporter/common/json_util.h"
#include "exporter/doctor/checks.h"
#include "exporter/doctor/file_io.h"
#include "exporter/sources/host/cmdline.h"

namespace gvisor_exporter::doctor {

namespace {

// systrap exists since release-20230417 (default since 20230621).
constexpr uint32_t kFirstSystrapRelease = 20230417;

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

CheckResult CheckRunscToml(GvisorHandler* h, const RunscInfo& runsc) {
  CheckResult r{"runsc.toml " + h->name};
  r.data["handler"] = h->name;
  r.data["config_path"] = h->config_path;
  const std::string fallback = DefaultPlatform(runsc.release);
  if (h->runtime_type != "io.containerd.runsc.v1") {
    // The runc shim route: runsc (or a wrapper) gets no runsc.toml; flags a
    // wrapper adds are invisible here, the live sandboxes show them.
    const bool plain = h->binary_name.size() >= 5 &&
                       h->binary_name.compare(h->binary_name.size() - 5, 5, "runsc") == 0;
    h->platform = plain ? fallback : "";
    r.data["platform"] = h->platform;
    r.detail = "no runsc.toml (" + h->runtime_type + " runs " + h->binary_name + "): " +
               (plain ? "runsc defaults, platform " + fallback
                      : "flags set by the wrapper are not visible here; see the sandboxes' "
                        "platforms");
    return r;
  }
  if (h->config_path.empty()) {
    h->platform = fallback;
    r.data["platform"] = h->platform;
    r.detail = "no ConfigPath: runsc defaults (platform " +
               (fallback.empty() ? std::string("the release default") : fallback) + ")";
    return r;
  }
  StatusOr<std::string> text = ReadRegularFile(h->config_path);
  if (!text.ok()) {
    r.status = CheckStatus::kFail;
    r.detail = "cannot read " + h->config_path + ": " + text.status().message();
    r.hint =
        "create it (deploy/containerd/runsc.toml) or fix options.ConfigPath; the shim "
        "cannot start pods without it";
    return r;
  }
  StatusOr<TomlValue> doc = ParseToml(*text);
  if (!doc.ok()) {
    r.status = CheckStatus::kFail;
    r.detail = h->config_path + " is not valid TOML: " + doc.status().message();
    r.hint = "fix that line; the shim cannot start pods with this file";
    r.data["error"] = doc.status().message();
    return r;
  }
  std::vector<std::string> fails, warns, hints;
  const std::string binary = doc->GetString("binary_name");
  if (!binary.empty()) {
    r.data["binary_name"] = binary;
    if (StatusOr<std::string> b = FindExecutable(binary); !b.ok()) {
      warns.push_back("binary_name " + b.status().message());
      hints.push_back("set binary_name to the installed runsc (" +
                      (runsc.path.empty() ? std::string("runsc") : runsc.path) + ")");
    }
  }
  h->root_parent = doc->GetString("root", "/run/containerd/runsc");
  r.data["root"] = h->root_parent;
  std::map<std::string, std::string> cfg;
  if (const TomlValue* rc = doc->Find("runsc_config"); rc != nullptr) {
    if (!rc->is_table()) {
      fails.push_back("runsc_config is not a table");
    } else {
      for (const auto& [k, v] : rc->table()) {
        // The shim decodes runsc_config into map[string]string: `debug =
        // true` (a TOML bool) is a decode error that fails every pod.
        if (!v.is_string()) {
          fails.push_back("runsc_config." + k + " is not a string");
          hints.push_back(
              "quote it: " + k + " = \"" +
              (v.type() == TomlValue::Type::kBool ? (v.as_bool() ? "true" : "false") : "...") +
              "\"");
          continue;
        }
        cfg[k] = v.as_string();
      }
    }
  }
  r.data["runsc_config"] = cfg;
  const auto get = [&](const char* k, const std::string& def) {
    auto it = cfg.find(k);
    return it == cfg.end() ? def : it->second;
  };
  h->platform_explicit = cfg.count("platform") != 0;
  h->platform = get("platform", fallback);
  if (h->platform_explicit) {
    if (h->platform != "ptrace" && h->platform != "systrap" && h->platform != "kvm") {
      fails.push_back("unknown platform \"" + h->platform + "\"");
      hints.push_back("use platform = \"systrap\", \"ptrace\" or \"kvm\"");
    } else if (h->platform == "systrap" && runsc.release != 0 &&
               runsc.release < kFirstSystrapRelease) {
      fails.push_back("platform systrap needs runsc >= release-20230417, installed " +
                      runsc.version);
      hints.push_back("use platform = \"ptrace\" (runsc-ptrace.toml) or upgrade runsc");
    }
  }
  const std::string network = get("network", "sandbox");
  const std::string file_access = get("file-access", "exclusive");
  r.data["platform"] = h->platform;
  r.data["platform_explicit"] = h->platform_explicit;
  r.data["network"] = network;
  r.data["file_access"] = file_access;
  for (const char* flag : {"debug", "strace"}) {
    bool on = false;
    if (cfg.count(flag) != 0 && !ParseGoBool(cfg[flag], &on)) {
      fails.push_back(std::string(flag) + " = \"" + cfg[flag] + "\" is not a boolean");
    }
    r.data[flag] = on;
    if (on) {
      warns.push_back(std::string(flag) + " is on (slow; logs may hold application data)");
      hints.push_back(std::string("remove ") + flag + " from [runsc_config] outside debugging");
    }
  }
  h->pod_init_config = get("pod-init-config", "");
  r.data["pod_init_config"] = h->pod_init_config;
  r.detail = h->config_path + ": platform " + h->platform +
             (h->platform_explicit ? "" : " (default)") + ", network " + network +
             ", file-access " + file_access +
             (h->pod_init_config.empty() ? "" : ", pod-init-config " + h->pod_init_config);
  if (!fails.empty()) {
    r.status = CheckStatus::kFail;
    r.detail += "; " + Join(fails, "; ");
  } else if (!warns.empty()) {
    r.status = CheckStatus::kWarn;
  }
  if (!warns.empty()) r.detail += "; " + Join(warns, "; ");
  r.hint = Join(hints, "; ");
  return r;
}

CheckResult CheckPodInitConfig(const GvisorHandler& h) {
  CheckResult r{"pod-init-config " + h.name};
  r.data["path"] = h.pod_init_config;
  const std::string& path = h.pod_init_config;
  StatusOr<std::string> text = ReadRegularFile(path);
  if (!text.ok()) {
    r.status = CheckStatus::kFail;
    r.detail = "cannot read " + path + ": " + text.status().message();
    r.hint =
        "copy deploy/containerd/pod-init.json there or remove pod-init-config; runsc "
        "fails to start sandboxes without it";
    return r;
  }
  StatusOr<nlohmann::json> doc = ParseJson(*text);
  const nlohmann::json* session = nullptr;
  if (doc.ok() && doc->is_object() && doc->contains("trace_session") &&
      (*doc)["trace_session"].is_object()) {
    session = &(*doc)["trace_session"];
  }
  if (session == nullptr) {
    r.status = CheckStatus::kFail;
    r.detail = path + ": " +
               (doc.ok() ? std::string("no \"trace_session\" object") : doc.status().message());
    r.hint = "regenerate it with deploy/containerd/make-pod-init.py";
    return r;
  }
  const size_t points = session->contains("points") && (*session)["points"].is_array()
                            ? (*session)["points"].size()
                            : 0;
  std::string endpoint;
  if (session->contains("sinks") && (*session)["sinks"].is_array() &&
      !(*session)["sinks"].empty()) {
    const nlohmann::json& sink = (*session)["sinks"][0];
    if (sink.is_object() && sink.contains("config") && sink["config"].is_object() &&
        sink["config"].contains("endpoint") && sink["config"]["endpoint"].is_string()) {
      endpoint = sink["config"]["endpoint"].get<std::string>();
    }
  }
  r.data["points"] = points;
  r.data["endpoint"] = endpoint;
  r.detail = path + ": trace session with " + std::to_string(points) + " points, sink " +
             (endpoint.empty() ? "(none)" : endpoint);
  struct stat st {};
  if (!endpoint.empty() && (::stat(endpoint.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))) {
    r.status = CheckStatus::kWarn;
    r.detail += "; nothing listens there now (sandboxes start, their events are lost)";
    r.hint = "run the exporter with --syscalls.listen=" + endpoint;
  }
  return r;
}

}  // namespace gvisor_exporter::doctor
