#include "exporter/common/log.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <ctime>

#include "exporter/common/text.h"

namespace gvisor_exporter {

namespace {

using Record = nlohmann::ordered_json;

// A spdlog message has room for text only, and some sinks format it later,
// on another thread (ring buffers, async loggers): so Log() passes msg and
// the fields as the text, serialized as JSON after this marker, and the
// formatter parses them back. Text without the marker (a plain spdlog call)
// is a msg without fields.
constexpr std::string_view kRecordMarker = "\x1e\x1fgve-record:";

constexpr nlohmann::json::error_handler_t kReplaceInvalidUtf8 =
    nlohmann::json::error_handler_t::replace;

std::string Rfc3339Millis(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  int millis = static_cast<int>(ms.count() % 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];  // room for any int in every field: no -Wformat-truncation
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

// Cut at kMaxLogValueBytes on a UTF-8 boundary, so a valid value stays valid.
std::string Bounded(std::string_view s) {
  if (s.size() <= kMaxLogValueBytes) return std::string(s);
  return std::string(Utf8Prefix(s, kMaxLogValueBytes)) + "...(" + std::to_string(s.size()) +
         " bytes)";
}

std::string SanitizedKey(std::string_view key) {
  if (key.empty()) return "_";
  std::string out(key.substr(0, 128));
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '=' || c == '"') c = '_';
  }
  return out;
}

bool IsStandardKey(const std::string& key) {
  return key == "ts" || key == "caller" || key == "level" || key == "msg";
}

// msg and the fields, bounded, keys sanitized and kept off the standard ones.
Record MessageRecord(std::string_view msg, const LogFields& fields) {
  Record record = Record::object();
  record["msg"] = Bounded(msg);
  for (const LogField& f : fields) {
    std::string key = SanitizedKey(f.key);
    if (IsStandardKey(key)) key.insert(0, "fields.");
    record[key] =
        f.value.is_string() ? Record(Bounded(f.value.get_ref<const std::string&>())) : f.value;
  }
  return record;
}

// The whole record: ts, caller and level (as `layout` says) before `message`.
Record FullRecord(const LogLayout& layout, std::chrono::system_clock::time_point time,
                  spdlog::level::level_enum level, std::string_view caller, Record message) {
  Record record = Record::object();
  if (layout.time) record["ts"] = Rfc3339Millis(time);
  if (layout.caller && !caller.empty()) record["caller"] = std::string(caller);
  if (layout.level) record["level"] = LogLevelName(level);
  for (auto& [key, value] : message.items()) record[key] = std::move(value);
  return record;
}

// The message record a spdlog payload carries (see kRecordMarker).
Record PayloadRecord(std::string_view payload) {
  if (payload.starts_with(kRecordMarker)) {
    Record parsed = Record::parse(payload.substr(kRecordMarker.size()), nullptr, false);
    if (parsed.is_object()) return parsed;
  }
  return MessageRecord(payload, {});
}

// logfmt leaves a value bare when it has no space, quote, '=', backslash,
// control or non-ASCII byte; otherwise it is quoted as a JSON string, which
// escapes quotes and control characters and replaces invalid UTF-8.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

std::string Logfmt(const Record& record) {
  std::string line;
  for (const auto& [key, value] : record.items()) {
    if (!line.empty()) line += ' ';
    line += key;
    line += '=';
    if (value.is_string() && !NeedsQuotes(value.get_ref<const std::string&>())) {
      line += value.get_ref<const std::string&>();
    } else {
      line += value.dump(-1, ' ', false, kReplaceInvalidUtf8);
    }
  }
  return line;
}

std::string Render(LogFormat format, const Record& record) {
  if (format == LogFormat::kJson) return record.dump(-1, ' ', false, kReplaceInvalidUtf8);
  return Logfmt(record);
}

// "exporter/sources/trace/x.cc" from an absolute source path; the base name
// when the path has no exporter/ directory.
std::string_view ShortFile(std::string_view path) {
  size_t at = path.rfind("/exporter/");
  if (at != std::string_view::npos) return path.substr(at + 1);
  at = path.rfind('/');
  return at == std::string_view::npos ? path : path.substr(at + 1);
}

class RecordFormatter final : public spdlog::formatter {
 public:
  RecordFormatter(LogFormat format, LogLayout layout) : format_(format), layout_(layout) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string caller;
    if (!msg.source.empty()) {
      caller = std::string(ShortFile(msg.source.filename)) + ":" + std::to_string(msg.source.line);
    }
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string line =
        Render(format_, FullRecord(layout_, msg.time, msg.level, caller, PayloadRecord(payload)));
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<RecordFormatter>(format_, layout_);
  }

 private:
  const LogFormat format_;
  const LogLayout layout_;
};

// spdlog's default logger (what logs before SetUpLogging, in the doctor and in
// tests) would print the serialized payload as is: give it logfmt records.
// spdlog creates its registry on first use, so this is safe at static init.
const bool kDefaultLoggerFormatted = [] {
  spdlog::default_logger_raw()->set_formatter(MakeLogFormatter(LogFormat::kLogfmt));
  return true;
}();

}  // namespace

const char* LogLevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    default:
      return "error";
  }
}

std::string FormatLogRecord(LogFormat format, const LogLayout& layout,
                            std::chrono::system_clock::time_point time,
                            spdlog::level::level_enum level, std::string_view caller,
                            std::string_view msg, const LogFields& fields) {
  return Render(format, FullRecord(layout, time, level, caller, MessageRecord(msg, fields)));
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format, LogLayout layout) {
  return std::make_unique<RecordFormatter>(format, layout);
}

void Log(spdlog::level::level_enum level, std::string_view msg, const LogFields& fields,
         LogSite where) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (logger == nullptr || !logger->should_log(level)) return;
  const std::string payload = std::string(kRecordMarker) +
                              MessageRecord(msg, fields).dump(-1, ' ', false, kReplaceInvalidUtf8);
  logger->log(spdlog::source_loc{where.file, where.line, where.function}, level,
              spdlog::string_view_t(payload.data(), payload.size()));
}

}  // namespace gvisor_exporter
