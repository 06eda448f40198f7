#include "exporter/sources/host/platform.h"

#include <cctype>
#include <utility>

namespace gvisor_exporter {

namespace {

constexpr std::string_view kUnknown = "unknown";

// Defaults of runsc's global flags by release, read from runsc/config in the
// public gVisor repository at the release tags:
//  - platform: "ptrace" up to release-20230605.0; "systrap" from
//    release-20230621.0 (flags.go: flagSet.String("platform", ...)).
//  - overlay2: "none" up to release-20230306.0 (defaultOverlay2() returns an
//    empty Overlay2); "root:self" from release-20230313.0 (rootfs overlay
//    backed by a file in the rootfs itself) through at least 2026 master.
//    The deprecated --overlay boolean means "all:memory" (GetOverlay2()).
//  - network "sandbox", file-access "exclusive", debug/strace false,
//    pod-init-config "": unchanged in every release we checked.
constexpr uint32_t kSystrapDefaultSince = 20230621;
constexpr uint32_t kOverlayRootSelfSince = 20230313;

std::string DefaultPlatform(uint32_t release) {
  if (release == 0) return std::string(kUnknown);
  return release >= kSystrapDefaultSince ? "systrap" : "ptrace";
}

std::string DefaultOverlay(uint32_t release) {
  if (release == 0) return std::string(kUnknown);
  return release >= kOverlayRootSelfSince ? "root:self" : "none";
}

// Label-safe value: [a-z0-9_.:-], at most 32 characters, else "unknown".
std::string Sanitize(std::string_view v) {
  if (v.empty() || v.size() > 32) return std::string(kUnknown);
  std::string out;
  for (char c : v) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isalnum(static_cast<unsigned char>(l)) && l != '_' && l != '.' && l != ':' &&
        l != '-') {
      return std::string(kUnknown);
    }
    out.push_back(l);
  }
  return out;
}

// "root:memory" / "all:self" / "root:dir=/x,size=1g" / "root:/x" -> a small
// set: mount (root|all) ':' medium (memory|self|dir). A filestore directory is
// a host path: neither a bounded label value nor something to publish.
std::string NormalizeOverlay(std::string_view v) {
  if (v == "none" || v == "false") return "none";
  const size_t colon = v.find(':');
  if (colon == std::string_view::npos) return std::string(kUnknown);
  const std::string_view mount = v.substr(0, colon);
  std::string_view medium = v.substr(colon + 1);
  medium = medium.substr(0, medium.find(','));  // drop ",size=..."
  if (mount != "root" && mount != "all") return std::string(kUnknown);
  if (medium == "none") return "none";
  if (medium == "memory" || medium == "self") return std::string(mount) + ":" + std::string(medium);
  if (medium.starts_with("dir=") || medium.starts_with("/")) return std::string(mount) + ":dir";
  return std::string(kUnknown);
}

std::string Lookup(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

// Boolean flag value; an unparsable value counts as its default (false): Go
// would have refused it, so the sandbox could not have started with it.
bool FlagTrue(const std::map<std::string, std::string>& flags, const std::string& name) {
  auto it = flags.find(name);
  bool v = false;
  return it != flags.end() && ParseGoBool(it->second, &v) && v;
}

// Value of an all-digit string (at most 9 digits here, so no overflow).
uint32_t Digits(std::string_view s) {
  uint32_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint32_t>(c - '0');
  return v;
}

// YYYYMMDD with a plausible year, month and day.
bool IsDate(std::string_view s) {
  const uint32_t year = Digits(s.substr(0, 4)), month = Digits(s.substr(4, 2)),
                 day = Digits(s.substr(6, 2));
  return year >= 2018 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

}  // namespace

uint32_t RunscReleaseDate(std::string_view version) {
  // Runs of digits: "0.0~20221219.0" has 0, 0, 20221219, 0. A 14-digit run is
  // a Go pseudo-version timestamp (yyyymmddhhmmss): its date counts too.
  size_t i = 0;
  while (i < version.size()) {
    if (version[i] < '0' || version[i] > '9') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < version.size() && version[j] >= '0' && version[j] <= '9') ++j;
    const std::string_view run = version.substr(i, j - i);
    if ((run.size() == 8 || run.size() == 14) && IsDate(run.substr(0, 8))) {
      return Digits(run.substr(0, 8));
    }
    i = j;
  }
  return 0;
}

SandboxPlatform PlatformFromCmdline(const std::vector<std::string>& argv,
                                    std::string_view runsc_version) {
  const uint32_t release = RunscReleaseDate(runsc_version);
  const GlobalFlags parsed = ParseGlobalFlags(argv);
  const std::map<std::string, std::string>& f = parsed.values;

  SandboxPlatform p;
  p.source = "cmdline";
  const std::string platform = Lookup(f, "platform");
  p.platform = platform.empty() ? DefaultPlatform(release) : Sanitize(platform);
  const std::string network = Lookup(f, "network");
  p.network = network.empty() ? "sandbox" : Sanitize(network);
  const std::string file_access = Lookup(f, "file-access");
  p.file_access = file_access.empty() ? "exclusive" : Sanitize(file_access);
  if (FlagTrue(f, "overlay")) {
    p.overlay = "all:memory";
  } else if (f.count("overlay2")) {
    p.overlay = NormalizeOverlay(f.at("overlay2"));
  } else {
    p.overlay = DefaultOverlay(release);
  }
  p.debug = FlagTrue(f, "debug");
  p.strace = FlagTrue(f, "strace");
  p.pod_init_config = !Lookup(f, "pod-init-config").empty();
  return p;
}

SandboxPlatform PlatformFromMetadata(const std::map<std::string, std::string>& metadata) {
  SandboxPlatform p;
  p.source = "metadata";
  const std::string platform = Lookup(metadata, "platform");
  if (!platform.empty()) p.platform = Sanitize(platform);
  const std::string network = Lookup(metadata, "network");
  if (!network.empty()) p.network = Sanitize(network);
  const std::string overlay = Lookup(metadata, "overlay");
  if (!overlay.empty()) p.overlay = NormalizeOverlay(overlay);
  return p;
}

SandboxPlatform MergePlatform(const SandboxPlatform& from_metadata,
                              const SandboxPlatform& from_cmdline) {
  SandboxPlatform p = from_cmdline;
  if (!from_metadata.platform.empty()) p.platform = from_metadata.platform;
  if (!from_metadata.network.empty()) p.network = from_metadata.network;
  if (!from_metadata.overlay.empty()) p.overlay = from_metadata.overlay;
  p.source = "metadata+cmdline";
  return p;
}

}  // namespace gvisor_exporter
