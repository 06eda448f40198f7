#include "exporter/sources/host/procfs.h"

#include <charconv>
#include <limits>
#include <vector>

#include "exporter/common/file_util.h"

namespace gvisor_exporter {

namespace {

// Field numbers (1-based, proc(5)) of the fields after comm that we keep.
constexpr size_t kFieldState = 3, kFieldPpid = 4, kFieldMinflt = 10, kFieldMajflt = 12,
                 kFieldUtime = 14, kFieldStime = 15, kFieldNumThreads = 20, kFieldStartTime = 22,
                 kFieldVsize = 23, kFieldRss = 24;

bool ParseInt64(std::string_view s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// Splits the part of a stat line after comm into space-separated fields,
// stopping once `max_fields` are found (the kernel prints single spaces).
std::vector<std::string_view> SplitFields(std::string_view s, size_t max_fields) {
  std::vector<std::string_view> out;
  while (!s.empty() && out.size() < max_fields) {
    size_t sp = s.find_first_of(" \n");
    out.push_back(s.substr(0, sp));
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

// Calls fn(key, value) for every "key: value" line; value is trimmed by the
// number parsers.
template <typename Fn>
void ForEachKeyLine(std::string_view text, Fn fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    fn(line.substr(0, colon), line.substr(colon + 1));
  }
}

// "   19096 kB" -> bytes. kB means KiB in every /proc file.
bool ParseKb(std::string_view v, uint64_t* bytes) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  size_t sp = v.find(' ');
  if (sp == std::string_view::npos || v.substr(sp) != " kB") return false;
  uint64_t kb = 0;
  if (!ParseUint64(v.substr(0, sp), &kb) || kb > std::numeric_limits<uint64_t>::max() / 1024) {
    return false;
  }
  *bytes = kb * 1024;
  return true;
}

// Stores `v` parsed by `parse` (ParseUint64, ParseKb) in *out; a malformed
// value clears *ok instead and leaves *out as it was.
void SetParsed(bool (*parse)(std::string_view, uint64_t*), std::string_view v,
               std::optional<uint64_t>* out, bool* ok) {
  uint64_t n = 0;
  if (!parse(v, &n)) {
    *ok = false;
    return;
  }
  *out = n;
}

}  // namespace

StatusOr<ProcStat> ParseProcStat(std::string_view text) {
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return ParseError("stat: no (comm)");
  }
  ProcStat st;
  std::string_view pid = text.substr(0, open);
  if (!pid.empty() && pid.back() == ' ') pid.remove_suffix(1);
  if (!ParseInt64(pid, &st.pid) || st.pid <= 0) return ParseError("stat: bad pid");
  st.comm.assign(text.substr(open + 1, close - open - 1));

  std::string_view rest = text.substr(close + 1);
  if (rest.empty() || rest.front() != ' ') return ParseError("stat: truncated after comm");
  rest.remove_prefix(1);
  // fields[i] is field number i + kFieldState.
  const std::vector<std::string_view> f = SplitFields(rest, kFieldRss - kFieldState + 1);
  if (f.size() < kFieldStartTime - kFieldState + 1) return ParseError("stat: truncated");
  auto field = [&](size_t n) { return f[n - kFieldState]; };
  if (field(kFieldState).size() != 1) return ParseError("stat: bad state");
  st.state = field(kFieldState)[0];
  bool ok =
      ParseInt64(field(kFieldPpid), &st.ppid) && ParseUint64(field(kFieldMinflt), &st.minflt) &&
      ParseUint64(field(kFieldMajflt), &st.majflt) && ParseUint64(field(kFieldUtime), &st.utime) &&
      ParseUint64(field(kFieldStime), &st.stime) &&
      ParseUint64(field(kFieldNumThreads), &st.num_threads) &&
      ParseUint64(field(kFieldStartTime), &st.starttime);
  // ParseUint64 tolerates surrounding whitespace; an empty field means two
  // adjacent spaces, i.e. not the kernel's format.
  if (f.size() > kFieldRss - kFieldState) {
    uint64_t pages = 0, vsize = 0;
    ok = ok && ParseUint64(field(kFieldRss), &pages) && ParseUint64(field(kFieldVsize), &vsize);
    st.rss_pages = pages;
    st.vsize_bytes = vsize;
  }
  for (std::string_view v : f) ok = ok && !v.empty();
  if (!ok) return ParseError("stat: malformed field");
  return st;
}

StatusOr<ProcStatus> ParseProcStatus(std::string_view text) {
  ProcStatus st;
  bool ok = true;
  ForEachKeyLine(text, [&](std::string_view key, std::string_view value) {
    if (key == "State") {
      size_t i = value.find_first_not_of(" \t");
      if (i == std::string_view::npos) {
        ok = false;
      } else {
        st.state = value[i];
      }
    } else if (key == "Threads") {
      SetParsed(ParseUint64, value, &st.threads, &ok);
    } else if (key == "TracerPid") {
      std::optional<uint64_t> v;
      SetParsed(ParseUint64, value, &v, &ok);
      if (v) st.tracer_pid = static_cast<int64_t>(*v);
    } else if (key == "voluntary_ctxt_switches") {
      SetParsed(ParseUint64, value, &st.voluntary_ctxt_switches, &ok);
    } else if (key == "nonvoluntary_ctxt_switches") {
      SetParsed(ParseUint64, value, &st.nonvoluntary_ctxt_switches, &ok);
    }
  });
  if (!ok) return ParseError("status: malformed value");
  return st;
}

StatusOr<SmapsRollup> ParseSmapsRollup(std::string_view text) {
  SmapsRollup r;
  bool have_rss = false, have_pss = false, ok = true;
  // The first line is the rollup's pseudo-mapping header
  // ("00400000-7ffd... ---p 00000000 00:00 0  [rollup]"); its ':' (in the
  // device field) yields a key we ignore.
  ForEachKeyLine(text, [&](std::string_view key, std::string_view value) {
    if (key == "Rss") {
      have_rss = true;
      ok = ok && ParseKb(value, &r.rss);
    } else if (key == "Pss") {
      have_pss = true;
      ok = ok && ParseKb(value, &r.pss);
    } else if (key == "Pss_Anon") {
      SetParsed(ParseKb, value, &r.pss_anon, &ok);
    } else if (key == "Pss_File") {
      SetParsed(ParseKb, value, &r.pss_file, &ok);
    } else if (key == "Pss_Shmem") {
      SetParsed(ParseKb, value, &r.pss_shmem, &ok);
    }
  });
  if (!ok) return ParseError("smaps_rollup: malformed value");
  if (!have_rss || !have_pss) return ParseError("smaps_rollup: no Rss/Pss");
  return r;
}

}  // namespace gvisor_exporter
