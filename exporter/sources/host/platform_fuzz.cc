// libFuzzer target: runsc command-line parsing from raw /proc/<pid>/cmdline
// bytes (NUL-separated). Seeds: testdata/fuzz_seeds/platform_fuzz/ (real
// sentry and gofer command lines).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/sources/host/cmdline.h"
#include "exporter/sources/host/platform.h"

namespace {

// Label values must stay in the sanitized alphabet whatever the input.
bool LabelSafe(const std::string& v) {
  if (v.size() > 32) return false;
  for (char c : v) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The entry point is extern "C", at global scope; what it tests is all ours.
  using namespace gvisor_exporter;  // NOLINT(google-build-using-namespace)
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> argv = SplitCmdline(raw);
  if (SubcommandIndex(argv) > argv.size()) __builtin_trap();
  // The input doubles as a version string.
  const SandboxPlatform p = PlatformFromCmdline(argv, raw);
  if (!LabelSafe(p.platform) || !LabelSafe(p.network) || !LabelSafe(p.file_access) ||
      !LabelSafe(p.overlay)) {
    __builtin_trap();
  }
  std::map<std::string, std::string> md;
  for (size_t i = 0; i + 1 < argv.size() && i < 16; i += 2) md[argv[i]] = argv[i + 1];
  const SandboxPlatform m = PlatformFromMetadata(md);
  if (!LabelSafe(m.platform.empty() ? "x" : m.platform)) __builtin_trap();
  return 0;
}
