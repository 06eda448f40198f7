#include "exporter/sources/host/cmdline.h"

#include <algorithm>
#include <iterator>

#include "exporter/common/file_util.h"

namespace gvisor_exporter {

namespace {

constexpr size_t kMaxCmdlineBytes = size_t{128} * 1024;

// Boolean global flags of runsc: the union of flagSet.Bool(...) registrations
// in runsc/config/flags.go of release-20221219.0 and of the 2026 master, plus
// main's --version. Sorted for binary search.
constexpr std::string_view kBoolFlags[] = {
    "EXPERIMENTAL-afxdp",
    "EXPERIMENTAL-xdp-need-wakeup",
    "TESTONLY-afs-syscall-panic",
    "TESTONLY-allow-packet-endpoint-write",
    "TESTONLY-autosave-resume",
    "TESTONLY-nftables",
    "TESTONLY-unsafe-nonroot",
    "allow-connected-on-save",
    "allow-flag-override",
    "allow-live-tcp-migration",
    "allow-packet-socket-write",
    "allow-rootfs-tar-annotation",
    "allow-suid",
    "alsologtostderr",
    "app-huge-pages",
    "buffer-pooling",
    "cgroupfs",
    "cpu-num-from-quota",
    "debug",
    "debug-to-user-log",
    "directfs",
    "enable-core-tags",
    "fsgofer-host-uds",
    "fuse",
    "gso",
    "gvisor-gro",
    "gvisor-marker-file",
    "help",
    "ignore-cgroups",
    "iouring",
    "kvm-use-cpu-nums",
    "lisafs",
    "log-packets",
    "mount-cgroup-v2",
    "net-disconnect-ok",
    "net-raw",
    "nvproxy",
    "nvproxy-allow-unsupported-driver",
    "nvproxy-docker",
    "oci-seccomp",
    "overlay",
    "pause-external-networking",
    "profile",
    "rdmaproxy",
    "reproduce-nat",
    "reproduce-nftables",
    "rootless",
    "rx-checksum-offload",
    "software-gso",
    "strace",
    "strace-event",
    "systemd-cgroup",
    "systrap-disable-fast-path",
    "systrap-disable-syscall-patching",
    "tpuproxy",
    "tx-checksum-offload",
    "version",
    "vfs2",
};

constexpr bool IsSorted() {
  for (size_t i = 1; i < std::size(kBoolFlags); ++i) {
    if (kBoolFlags[i] < kBoolFlags[i - 1]) return false;
  }
  return true;
}
static_assert(IsSorted(), "kBoolFlags must be sorted");

bool IsKnownBool(std::string_view name) {
  return std::binary_search(std::begin(kBoolFlags), std::end(kBoolFlags), name);
}

// Subcommands that an unknown boolean flag may be followed by in the command
// lines we parse (sentry, gofer, runsc's mount helper).
bool IsKnownSubcommand(std::string_view s) { return s == "boot" || s == "gofer" || s == "umount"; }

// Whether a flag without "=value" that is not a known boolean takes `next` as
// its value: not when `next` looks like another flag (but "-1" is a value).
bool TakesNext(std::string_view next) {
  if (IsKnownSubcommand(next)) return false;
  if (next.size() < 2 || next[0] != '-') return true;
  return next.find_first_not_of("0123456789", 1) == std::string_view::npos;
}

}  // namespace

std::vector<std::string> SplitCmdline(std::string_view raw, size_t max_args) {
  std::vector<std::string> out;
  while (!raw.empty() && out.size() < max_args) {
    size_t nul = raw.find('\0');
    out.emplace_back(raw.substr(0, nul));
    if (nul == std::string_view::npos) break;
    raw.remove_prefix(nul + 1);
  }
  return out;
}

StatusOr<std::vector<std::string>> ReadCmdline(const std::string& proc_root, int64_t pid) {
  if (pid <= 0) return InvalidError("bad pid " + std::to_string(pid));
  StatusOr<std::string> raw =
      ReadFileBounded(proc_root + "/" + std::to_string(pid) + "/cmdline", kMaxCmdlineBytes, true);
  if (!raw.ok()) return raw.status();
  return SplitCmdline(*raw);
}

bool ParseGoBool(std::string_view s, bool* value) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") {
    *value = true;
    return true;
  }
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    *value = false;
    return true;
  }
  return false;
}

GlobalFlags ParseGlobalFlags(const std::vector<std::string>& argv) {
  GlobalFlags out;
  size_t i = 1;
  while (i < argv.size()) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') break;  // the subcommand ("-" included)
    if (arg == "--") {
      ++i;
      break;
    }
    std::string_view name = arg.substr(arg[1] == '-' ? 2 : 1);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      // Go rejects this ("bad flag syntax") and runsc would not have started.
      out.subcommand_index = argv.size();
      return out;
    }
    ++i;
    const size_t eq = name.find('=');
    if (eq != std::string_view::npos) {
      out.values[std::string(name.substr(0, eq))] = std::string(name.substr(eq + 1));
      continue;
    }
    const bool takes_value = !IsKnownBool(name) && i < argv.size() && TakesNext(argv[i]);
    out.values[std::string(name)] = takes_value ? argv[i++] : "true";
  }
  out.subcommand_index = std::min(i, argv.size());  // argv may be empty
  return out;
}

size_t SubcommandIndex(const std::vector<std::string>& argv) {
  return ParseGlobalFlags(argv).subcommand_index;
}

}  // namespace gvisor_exporter
