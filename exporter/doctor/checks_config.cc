// Reading containerd's config file(s) and finding the gVisor handlers in them.
#include <glob.h>

#include <algorithm>
#include <deque>
#include <map>
#include <utility>

#include "exporter/doctor/checks.h"
#include "exporter/doctor/file_io.h"

namespace gvisor_exporter::doctor {

namespace {

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// containerd's resolveImports: relative to the importing file, globs
// expanded (no match is fine), plain paths kept (a missing one is an error
// containerd itself stops on).
Status ResolveImport(const std::string& importer, const std::string& entry,
                     std::vector<std::string>* out) {
  const std::string path =
      entry.empty() || entry[0] == '/' ? entry : DirName(importer) + "/" + entry;
  if (path.find_first_of("*?[") == std::string::npos) {
    out->push_back(path);
    return Status::Ok();
  }
  glob_t g{};
  const int rc = ::glob(path.c_str(), 0, nullptr, &g);
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc && out->size() <= kMaxConfigFiles; ++i) {
      out->push_back(g.gl_pathv[i]);
    }
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) return IoError("imports pattern " + path + " failed");
  return Status::Ok();
}

// The runtimes table of the CRI plugin, by config version: 2 (containerd
// 1.3-1.7), 1 (plugins.cri) and 3 (containerd 2.x).
const TomlValue* RuntimesTable(const TomlValue& root) {
  const TomlValue* plugins = root.Find("plugins");
  if (plugins == nullptr) return nullptr;
  for (const char* plugin : {"io.containerd.grpc.v1.cri", "cri", "io.containerd.cri.v1.runtime"}) {
    const TomlValue* t = plugins->FindPath({plugin, "containerd", "runtimes"});
    if (t != nullptr && t->is_table()) return t;
  }
  return nullptr;
}

bool LooksLikeRunsc(const std::string& binary) {
  return BaseName(binary).find("runsc") != std::string::npos;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view name) {
  // Iterative '*' backtracking: linear in practice, no recursion on input.
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p, ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

CheckResult CheckContainerdConfig(const std::string& path, ContainerdConfig* config) {
  CheckResult r{"containerd config"};
  std::deque<std::pair<std::string, std::string>> todo{{path, ""}};  // (file, importer)
  std::set<std::string> seen;
  nlohmann::json files = nlohmann::json::array();
  while (!todo.empty()) {
    auto [file, importer] = todo.front();
    todo.pop_front();
    if (!seen.insert(file).second) continue;
    if (config->files.size() >= kMaxConfigFiles) {
      r.status = CheckStatus::kFail;
      r.detail = "more than " + std::to_string(kMaxConfigFiles) + " config files via imports";
      r.hint = "reduce the files matched by imports = [...]";
      return r;
    }
    const std::string via = importer.empty() ? "" : " (imported by " + importer + ")";
    StatusOr<std::string> text = ReadRegularFile(file);
    if (!text.ok()) {
      r.status = CheckStatus::kFail;
      r.detail = "cannot read " + file + via + ": " + text.status().message();
      r.hint = "pass the node's containerd config with --containerd.config=PATH (read-only)";
      r.data["files"] = files;
      return r;
    }
    StatusOr<TomlValue> doc = ParseToml(*text);
    if (!doc.ok()) {
      r.status = CheckStatus::kFail;
      r.detail = file + via + " is not valid TOML: " + doc.status().message();
      r.hint = "fix that line; containerd refuses to start (or ignores the file) with this config";
      r.data["files"] = files;
      r.data["error"] = doc.status().message();
      return r;
    }
    files.push_back(file);
    const TomlValue* imports = doc->Find("imports");
    if (imports != nullptr) {
      if (!imports->is_array()) {
        r.status = CheckStatus::kFail;
        r.detail = file + ": imports is not an array of strings";
        r.hint = "write imports = [\"/etc/containerd/conf.d/*.toml\"]";
        return r;
      }
      for (const TomlValue& entry : imports->array()) {
        if (!entry.is_string()) continue;
        std::vector<std::string> resolved;
        if (Status s = ResolveImport(file, entry.as_string(), &resolved); !s.ok()) {
          r.status = CheckStatus::kFail;
          r.detail = file + ": " + s.message();
          return r;
        }
        for (std::string& p : resolved) todo.emplace_back(std::move(p), file);
      }
    }
    config->files.push_back({file, std::move(doc).value()});
  }
  const TomlValue& main = config->files.front().root;
  const TomlValue* version = main.Find("version");
  r.data["files"] = files;
  r.data["version"] = version != nullptr && version->type() == TomlValue::Type::kInteger
                          ? version->as_integer()
                          : 1;
  r.detail = "read " + path;
  if (files.size() > 1) r.detail += " + " + std::to_string(files.size() - 1) + " imported file(s)";
  r.detail += ", config version " + r.data["version"].dump();
  return r;
}

std::vector<GvisorHandler> FindGvisorHandlers(const ContainerdConfig& config,
                                              std::set<std::string>* all_handlers) {
  // Later files override earlier definitions of the same runtime, as
  // containerd's merge of imports does.
  std::map<std::string, GvisorHandler> by_name;
  for (const ConfigFile& file : config.files) {
    const TomlValue* runtimes = RuntimesTable(file.root);
    if (runtimes == nullptr) continue;
    for (const auto& [name, rt] : runtimes->table()) {
      if (!rt.is_table()) continue;
      all_handlers->insert(name);
      GvisorHandler h;
      h.name = name;
      h.source_file = file.path;
      h.runtime_type = rt.GetString("runtime_type");
      const TomlValue* options = rt.Find("options");
      if (options != nullptr && options->is_table()) {
        h.options = options->ToJson();
        h.binary_name = options->GetString("BinaryName");
        h.config_path = options->GetString("ConfigPath");
      }
      const std::string engine = rt.GetString("runtime_engine");  // config version 1
      const bool gvisor = h.runtime_type == "io.containerd.runsc.v1" ||
                          (!h.binary_name.empty() && LooksLikeRunsc(h.binary_name)) ||
                          (!engine.empty() && LooksLikeRunsc(engine));
      if (!gvisor) {
        by_name.erase(name);
        continue;
      }
      if (h.binary_name.empty() && !engine.empty()) h.binary_name = engine;
      if (const TomlValue* pa = rt.Find("pod_annotations"); pa != nullptr && pa->is_array()) {
        for (const TomlValue& v : pa->array()) {
          if (v.is_string()) h.pod_annotations.push_back(v.as_string());
        }
      }
      // Where runsc keeps state: the runc shim passes --root <Root>/<ns>
      // (default /run/containerd/runc); the runsc shim uses runsc.toml's
      // root (default /run/containerd/runsc), set in CheckRunscToml.
      if (h.runtime_type == "io.containerd.runsc.v1") {
        h.root_parent = "/run/containerd/runsc";
      } else if (options != nullptr) {
        h.root_parent = options->GetString("Root", "/run/containerd/runc");
      }
      by_name[name] = std::move(h);
    }
  }
  std::vector<GvisorHandler> out;
  out.reserve(by_name.size());
  for (auto& [name, h] : by_name) out.push_back(std::move(h));
  return out;
}

CheckResult CheckGvisorHandlers(const std::vector<GvisorHandler>& handlers,
                                const std::set<std::string>& all_handlers) {
  CheckResult r{"gvisor handlers"};
  nlohmann::json names = nlohmann::json::array();
  for (const GvisorHandler& h : handlers) names.push_back(h.name);
  r.data["handlers"] = names;
  r.data["all_handlers"] = all_handlers;
  if (handlers.empty()) {
    r.status = CheckStatus::kFail;
    r.detail = "no gVisor runtime handler in the containerd config (runtimes: " +
               (all_handlers.empty() ? std::string("none") : nlohmann::json(all_handlers).dump()) +
               ")";
    r.hint =
        "add [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runsc] with runtime_type "
        "= \"io.containerd.runsc.v1\" (deploy/containerd/config.toml) and restart containerd";
    return r;
  }
  std::string list;
  for (const GvisorHandler& h : handlers) list += (list.empty() ? "" : ", ") + h.name;
  r.detail = std::to_string(handlers.size()) + " gVisor handler(s): " + list;
  return r;
}

CheckResult CheckHandler(const GvisorHandler& h) {
  CheckResult r{"handler " + h.name};
  r.data["handler"] = h.name;
  r.data["runtime_type"] = h.runtime_type;
  r.data["options"] = h.options;
  r.data["pod_annotations"] = h.pod_annotations;
  r.data["source_file"] = h.source_file;
  r.data["root_parent"] = h.root_parent;
  r.detail = "type " + (h.runtime_type.empty() ? std::string("(unset)") : h.runtime_type) +
             ", options " + h.options.dump();
  std::vector<std::string> warnings, hints;
  if (h.runtime_type == "io.containerd.runsc.v1") {
    // containerd runs the shim binary named after the type from its PATH.
    StatusOr<std::string> shim = FindExecutable("containerd-shim-runsc-v1");
    r.data["shim"] = shim.ok() ? *shim : "";
    if (!shim.ok()) {
      warnings.push_back("containerd-shim-runsc-v1 not found in PATH");
      hints.push_back("install containerd-shim-runsc-v1 next to runsc (gVisor's release)");
    }
  } else if (!h.binary_name.empty()) {
    StatusOr<std::string> bin = FindExecutable(h.binary_name);
    if (!bin.ok()) {
      warnings.push_back("BinaryName " + bin.status().message());
      hints.push_back("point options.BinaryName at an executable runsc (or wrapper)");
    }
  }
  const bool passes =
      std::any_of(h.pod_annotations.begin(), h.pod_annotations.end(),
                  [](const std::string& p) { return GlobMatch(p, "gvisor-exporter.io/syscalls"); });
  r.data["passes_exporter_annotations"] = passes;
  if (!passes) {
    warnings.push_back(
        "pod_annotations lacks \"gvisor-exporter.io/*\" (syscall opt-in by pod "
        "annotation cannot work)");
    hints.push_back("add pod_annotations = [\"gvisor-exporter.io/*\"] to this runtime");
  }
  if (!warnings.empty()) {
    r.status = CheckStatus::kWarn;
    for (const std::string& w : warnings) r.detail += "; " + w;
    for (const std::string& h2 : hints) r.hint += (r.hint.empty() ? "" : "; ") + h2;
  }
  return r;
}

}  // namespace gvisor_exporter::doctor
