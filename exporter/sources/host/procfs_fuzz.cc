// libFuzzer target: the /proc parsers on arbitrary bytes. Seeds:
// testdata/fuzz_seeds/procfs_fuzz/ (real stat, status, smaps_rollup files).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/sources/host/procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // Every input goes through all three: a stat-like status or a smaps-like
  // stat must be rejected as cleanly as random bytes.
  gvisor_exporter::StatusOr<gvisor_exporter::ProcStat> st = gvisor_exporter::ParseProcStat(text);
  if (st.ok() && st->pid <= 0) __builtin_trap();
  (void)gvisor_exporter::ParseProcStatus(text);
  gvisor_exporter::StatusOr<gvisor_exporter::SmapsRollup> r =
      gvisor_exporter::ParseSmapsRollup(text);
  if (r.ok() && r->rss % 1024 != 0) __builtin_trap();
  return 0;
}
