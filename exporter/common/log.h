// Structured logging: every record is a message plus key/value fields, written
// through spdlog and rendered by the formatter SetUpLogging installs as one
// logfmt line (default) or one JSON object per line (--log.format=json).
//
// Both formats carry the same fields in the same order: ts (RFC 3339, ms,
// UTC), caller (file:line), level (debug, info, warn, error: the spellings of
// --log.level), msg, then the record's own fields. Values are untrusted (file
// names, socket replies): the JSON line is built by nlohmann::json, which
// replaces invalid UTF-8 with U+FFFD, and logfmt values that need quoting are
// quoted the same way, so a value can never break its line or the encoding.
//
//   LogWarn("trace session lost", {{"sandbox_id", id}, {"failures", n}});
#pragma once

#include <spdlog/common.h>
#include <spdlog/formatter.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace gvisor_exporter {

enum class LogFormat { kLogfmt, kJson };

// Longer string values (and messages) are cut to this many bytes and marked,
// so one huge reply cannot make a huge log line.
inline constexpr size_t kMaxLogValueBytes = 1024;

// One key/value of a record. Numbers and booleans stay numbers and booleans
// in JSON (bare in logfmt); everything else is a string.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(std::string(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string(v ? v : "")) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  LogField(std::string_view k, T v) : key(k), value(v) {}

  std::string key;
  nlohmann::ordered_json value;
};
using LogFields = std::vector<LogField>;

// Where a log call is. Filled in by default arguments at the call site with
// the compiler builtins that std::source_location is made of: clang 14 (the
// fuzz build) with libstdc++ 12 has no std::source_location.
struct LogSite {
  const char* file;
  int line;
  const char* function;
};

// Logs through spdlog's default logger when `level` is enabled.
void Log(spdlog::level::level_enum level, std::string_view msg, const LogFields& fields,
         LogSite where);

inline void LogDebug(std::string_view msg, const LogFields& fields = {},
                     const char* file = __builtin_FILE(), int line = __builtin_LINE(),
                     const char* function = __builtin_FUNCTION()) {
  Log(spdlog::level::debug, msg, fields, {file, line, function});
}
inline void LogInfo(std::string_view msg, const LogFields& fields = {},
                    const char* file = __builtin_FILE(), int line = __builtin_LINE(),
                    const char* function = __builtin_FUNCTION()) {
  Log(spdlog::level::info, msg, fields, {file, line, function});
}
inline void LogWarn(std::string_view msg, const LogFields& fields = {},
                    const char* file = __builtin_FILE(), int line = __builtin_LINE(),
                    const char* function = __builtin_FUNCTION()) {
  Log(spdlog::level::warn, msg, fields, {file, line, function});
}
inline void LogError(std::string_view msg, const LogFields& fields = {},
                     const char* file = __builtin_FILE(), int line = __builtin_LINE(),
                     const char* function = __builtin_FUNCTION()) {
  Log(spdlog::level::err, msg, fields, {file, line, function});
}

// What a formatter writes besides msg and the fields.
struct LogLayout {
  bool time = true;
  bool caller = true;
  bool level = true;
};

// One record as a line, without the newline. A field named like a standard
// one (ts, caller, level, msg) becomes fields.<name>; a repeated key keeps
// its first position and its last value; characters other than printable
// ASCII, '=' and '"' in keys become '_'.
std::string FormatLogRecord(LogFormat format, const LogLayout& layout,
                            std::chrono::system_clock::time_point time,
                            spdlog::level::level_enum level, std::string_view caller,
                            std::string_view msg, const LogFields& fields);

// A spdlog formatter writing records in `format`. Records from Log() carry
// their fields; a plain spdlog call's text becomes msg with no fields.
std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format, LogLayout layout = {});

// The --log.level spelling of a spdlog level (trace logs as debug, critical
// as error).
const char* LogLevelName(spdlog::level::level_enum level);

}  // namespace gvisor_exporter
