// RenderSandboxesHtml (declared in sandboxes_view.h).
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "exporter/common/text.h"
#include "exporter/views/sandboxes_view.h"

namespace gvisor_exporter {

namespace {

// A cell shows at most this many bytes of a string (a 10 KB annotation must
// not stretch the table); the full value is in the JSON.
constexpr size_t kMaxCellBytes = 256;
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // U+2026

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string MiB(std::optional<double> bytes) {
  return bytes ? Format("%.1f MiB", *bytes / (1024.0 * 1024.0)) : "n/a";
}
template <typename T>
std::optional<double> AsDouble(const std::optional<T>& v) {
  if (!v) return std::nullopt;
  return static_cast<double>(*v);
}

std::string Utc(double seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

constexpr char kHead[] =
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>gVisor sandboxes</title>\n"
    "<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;font-size:90%}"
    "th,td{border:1px solid #ccc;padding:2px 5px;text-align:left;vertical-align:top}"
    "th{background:#eee}td{white-space:nowrap}td.n{text-align:right}"
    "td.w{white-space:normal;overflow-wrap:anywhere;max-width:16em}"
    "td.id{font-family:monospace;white-space:normal;word-break:break-all;min-width:9em;"
    "max-width:12em}</style>\n"
    "</head><body>\n<h1>gVisor sandboxes</h1>\n"
    "<p><a href=\"/\">Home</a> &middot; <a href=\"/sandboxes?format=json\">JSON</a></p>\n";

constexpr const char* kColumns[] = {
    "Pod",      "Namespace",           "Sandbox ID", "runsc root", "RuntimeClass", "Platform",
    "Network",  "Memory (in sandbox)", "Host PSS",   "Overhead",   "Host cgroup",  "Stats path",
    "Syscalls", "Containers",          "Last poll"};

constexpr char kLegend[] =
    "<p>Memory (in sandbox): what the sentry accounts (runsc usage Total). Host PSS: "
    "proportional set size of the sandbox&#39;s host processes (sentry, gofers, stubs). "
    "Overhead: Host PSS &minus; Memory (in sandbox). Host cgroup: memory usage of the "
    "sandbox&#39;s host cgroup. n/a: not known at this poll.</p>\n";

}  // namespace

// An untrusted string as HTML text or attribute value: valid UTF-8, bounded,
// markup characters and quotes escaped, control characters (which HTML
// parsers reject or mangle) replaced.
std::string HtmlText(const std::string& raw) {
  std::string v = ToValidUtf8(raw);
  if (v.size() > kMaxCellBytes) {
    v.resize(Utf8Prefix(v, kMaxCellBytes - kEllipsis.size()).size());
    v += kEllipsis;
  }
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
          out += kUtf8Replacement;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string RenderSandboxesHtml(const NodeSnapshot* snap, double now_seconds) {
  std::string out = kHead;
  if (!snap) {
    out += "<p>The first poll is in progress; reload in a few seconds.</p>\n</body></html>\n";
    return out;
  }
  const std::vector<SandboxRow> rows = BuildSandboxRows(*snap);
  const std::string when = HtmlText(Utc(snap->timestamp_seconds));
  out += "<p>Snapshot of " + when + " (" +
         Format("%.1f", std::max(0.0, now_seconds - snap->timestamp_seconds)) + " s ago), poll " +
         std::to_string(snap->poll_count) + ", " + std::to_string(rows.size()) +
         (rows.size() == 1 ? " sandbox" : " sandboxes") + ".</p>\n<table>\n<thead><tr>";
  for (const char* c : kColumns) out += std::string("<th>") + c + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  if (rows.empty()) {
    out += "<tr><td colspan=\"" + std::to_string(std::size(kColumns)) +
           "\">No sandboxes found under the runsc roots.</td></tr>\n";
  }
  // Cells of strings from the sandbox ("w") wrap anywhere past a width, so a
  // long value cannot stretch the table; figures and the time never wrap.
  for (const SandboxRow& r : rows) {
    const auto cell = [&out](const std::string& cls, const std::string& html) {
      out += cls.empty() ? "<td>" : "<td class=\"" + cls + "\">";
      out += html;
      out += "</td>";
    };
    out += "<tr>";
    cell("w", HtmlText(r.pod));
    cell("w", HtmlText(r.pod_namespace));
    cell("id", HtmlText(r.id));
    cell("w", HtmlText(r.root));
    cell("w", HtmlText(r.runtime_class.value_or("")));
    cell("w", HtmlText(r.platform));
    cell("w", HtmlText(r.network));
    cell("n", MiB(AsDouble(r.memory_total_bytes)));
    cell("n", MiB(AsDouble(r.host_pss_bytes)));
    cell("n", MiB(AsDouble(r.memory_overhead_bytes)));
    cell("n", MiB(AsDouble(r.cgroup_memory_bytes)));
    cell("", HtmlText(r.stats_path));
    cell("", HtmlText(r.syscall_collection +
                      (r.syscall_events_dropped && *r.syscall_events_dropped > 0
                           ? ", " + std::to_string(*r.syscall_events_dropped) + " dropped"
                           : "")));
    cell("w", HtmlText(Join(r.containers)));
    cell("", when);
    out += "</tr>\n";
  }
  out += "</tbody></table>\n";
  out += kLegend;
  out += "</body></html>\n";
  return out;
}

}  // namespace gvisor_exporter
