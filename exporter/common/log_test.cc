#include "exporter/common/log.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <regex>

#include "exporter/common/error_reporter.h"
#include "exporter/common/log_capture.h"

namespace gvisor_exporter {
namespace {

// The default logger into a ring buffer with our formatter, for the test's
// lifetime.
class CapturedLog : public LogCapture {
 public:
  explicit CapturedLog(LogFormat format, spdlog::level::level_enum level = spdlog::level::debug)
      : LogCapture(format, {}, level, 64) {}
};

// Parses one line as JSON; nlohmann's parser rejects invalid UTF-8 and raw
// control characters in strings, so this is also the validity check.
nlohmann::ordered_json ParseJsonLine(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one record, one line";
  return nlohmann::ordered_json::parse(line);  // throws (fails the test) when invalid
}

// A minimal logfmt reader: key=bare or key="JSON-quoted", space separated.
// Returns the pairs in order as a JSON object (values as JSON values, bare
// ones parsed as numbers/booleans when they are).
nlohmann::ordered_json ParseLogfmtLine(std::string line) {
  EXPECT_EQ(line.back(), '\n');
  line.pop_back();
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  size_t i = 0;
  while (i < line.size()) {
    const size_t eq = line.find('=', i);
    if (eq == std::string::npos) throw std::runtime_error("no '=' after " + line.substr(i));
    const std::string key = line.substr(i, eq - i);
    size_t end;
    if (line[eq + 1] == '"') {
      end = eq + 2;
      while (end < line.size() && line[end] != '"') end += line[end] == '\\' ? 2 : 1;
      ++end;
      out[key] = nlohmann::ordered_json::parse(line.substr(eq + 1, end - eq - 1));
    } else {
      end = line.find(' ', eq);
      if (end == std::string::npos) end = line.size();
      const std::string bare = line.substr(eq + 1, end - eq - 1);
      auto parsed = nlohmann::ordered_json::parse(bare, nullptr, false);
      out[key] =
          parsed.is_discarded() || parsed.is_string() ? nlohmann::ordered_json(bare) : parsed;
    }
    if (end < line.size() && line[end] != ' ') throw std::runtime_error("junk after value");
    i = end + 1;
  }
  return out;
}

const std::string kLong(100000, 'x');

LogFields HostileFields() {
  return {{"invalid_utf8", std::string("a\xff\xfe"
                                       "b\xc3")},
          {"nul", std::string("a\0b", 3)},
          {"quotes", "say \"hi\" \\ there"},
          {"control", "line1\nline2\r\t\x01\x1b[31m"},
          {"long", kLong},
          {"ts", "forged"},
          {"level", "debug"},
          {"msg", "forged msg"},
          {"caller", "forged.cc:1"},
          {"key with space=and\"quote", "v"},
          {"count", 42},
          {"ratio", 0.5},
          {"ok", true}};
}

void ExpectHostileRecord(const nlohmann::ordered_json& r) {
  ASSERT_TRUE(r.is_object());
  EXPECT_TRUE(std::regex_match(r["ts"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << r["ts"];
  EXPECT_TRUE(std::regex_match(r["caller"].get<std::string>(),
                               std::regex(R"(exporter/common/log_test\.cc:\d+)")))
      << r["caller"];
  EXPECT_EQ(r["level"], "warn");
  EXPECT_EQ(r["msg"], "hostile \"message\"\n");
  EXPECT_EQ(r["invalid_utf8"],
            "a\xef\xbf\xbd\xef\xbf\xbd"
            "b\xef\xbf\xbd");
  EXPECT_EQ(r["nul"], std::string("a\0b", 3));
  EXPECT_EQ(r["quotes"], "say \"hi\" \\ there");
  EXPECT_EQ(r["control"], "line1\nline2\r\t\x01\x1b[31m");
  const std::string long_value = r["long"];
  EXPECT_EQ(long_value, std::string(kMaxLogValueBytes, 'x') + "...(100000 bytes)");
  EXPECT_EQ(r["fields.ts"], "forged");
  EXPECT_EQ(r["fields.level"], "debug");
  EXPECT_EQ(r["fields.msg"], "forged msg");
  EXPECT_EQ(r["fields.caller"], "forged.cc:1");
  EXPECT_EQ(r["key_with_space_and_quote"], "v");
  EXPECT_EQ(r["count"], 42);
  EXPECT_EQ(r["ratio"], 0.5);
  EXPECT_EQ(r["ok"], true);
  // Standard fields first, then the record's own in call order.
  std::vector<std::string> keys;
  for (const auto& [k, v] : r.items()) keys.push_back(k);
  const std::vector<std::string> want = {"ts",
                                         "caller",
                                         "level",
                                         "msg",
                                         "invalid_utf8",
                                         "nul",
                                         "quotes",
                                         "control",
                                         "long",
                                         "fields.ts",
                                         "fields.level",
                                         "fields.msg",
                                         "fields.caller",
                                         "key_with_space_and_quote",
                                         "count",
                                         "ratio",
                                         "ok"};
  EXPECT_EQ(keys, want);
}

TEST(LogTest, JsonLineOfHostileFieldsParsesWithEveryField) {
  CapturedLog log(LogFormat::kJson);
  LogWarn("hostile \"message\"\n", HostileFields());
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  ExpectHostileRecord(ParseJsonLine(lines[0]));
}

TEST(LogTest, LogfmtLineCarriesTheSameFieldsAsJson) {
  std::string json_line, logfmt_line;
  {
    CapturedLog log(LogFormat::kJson);
    LogWarn("hostile \"message\"\n", HostileFields());
    json_line = log.Lines().at(0);
  }
  {
    CapturedLog log(LogFormat::kLogfmt);
    LogWarn("hostile \"message\"\n", HostileFields());
    logfmt_line = log.Lines().at(0);
  }
  auto from_logfmt = ParseLogfmtLine(logfmt_line);
  auto from_json = ParseJsonLine(json_line);
  ExpectHostileRecord(from_logfmt);
  // Same keys, order and values, except the time and the caller line.
  from_logfmt.erase("ts");
  from_json.erase("ts");
  from_logfmt.erase("caller");
  from_json.erase("caller");
  EXPECT_EQ(from_logfmt, from_json);
  // Bare where no quoting is needed, like go-kit's logfmt.
  EXPECT_NE(logfmt_line.find(" level=warn "), std::string::npos) << logfmt_line;
  EXPECT_NE(logfmt_line.find(" count=42 ratio=0.5 ok=true\n"), std::string::npos) << logfmt_line;
  EXPECT_NE(logfmt_line.find(" quotes=\"say \\\"hi\\\" \\\\ there\""), std::string::npos);
}

TEST(LogTest, TimestampIsNowInUtcWithMilliseconds) {
  CapturedLog log(LogFormat::kJson);
  const auto before = std::chrono::system_clock::now();
  LogInfo("tick");
  const auto after = std::chrono::system_clock::now();
  const std::string ts = ParseJsonLine(log.Lines().at(0))["ts"];
  std::tm tm{};
  int ms = 0;
  ASSERT_EQ(sscanf(ts.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
            7);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const double logged = static_cast<double>(timegm(&tm)) + ms / 1000.0;
  auto secs = [](auto t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); };
  EXPECT_GE(logged, std::floor(secs(before) * 1000) / 1000);
  EXPECT_LE(logged, secs(after));
}

TEST(LogTest, LevelsAreSpelledLikeTheFlagAndFiltered) {
  {
    CapturedLog log(LogFormat::kJson, spdlog::level::debug);
    LogDebug("d");
    LogInfo("i");
    LogWarn("w");
    LogError("e");
    std::vector<std::string> levels;
    for (const auto& line : log.Lines()) levels.push_back(ParseJsonLine(line)["level"]);
    EXPECT_EQ(levels, (std::vector<std::string>{"debug", "info", "warn", "error"}));
  }
  CapturedLog log(LogFormat::kLogfmt, spdlog::level::warn);
  LogDebug("d");
  LogInfo("i");
  LogWarn("w");
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(ParseLogfmtLine(lines[0])["level"], "warn");
}

TEST(LogTest, PlainSpdlogCallBecomesMsgOfAValidRecord) {
  CapturedLog log(LogFormat::kJson);
  spdlog::info("plain {} \"text\" \xff", 7);
  auto r = ParseJsonLine(log.Lines().at(0));
  EXPECT_EQ(r["level"], "info");
  EXPECT_EQ(r["msg"], "plain 7 \"text\" \xef\xbf\xbd");
  EXPECT_FALSE(r.contains("caller"));
}

TEST(LogTest, ValuesAreCutOnACharacterBoundary) {
  // 1023 ASCII bytes then a 3-byte character straddling the limit.
  const std::string value = std::string(kMaxLogValueBytes - 1, 'a') + "\xe2\x82\xac" + "tail";
  const std::string line = FormatLogRecord(LogFormat::kJson, {false, false, false}, {},
                                           spdlog::level::info, "", "m", {{"v", value}});
  auto r = nlohmann::json::parse(line);
  EXPECT_EQ(r["v"], std::string(kMaxLogValueBytes - 1, 'a') + "...(" +
                        std::to_string(value.size()) + " bytes)");
  EXPECT_EQ(r.size(), 2u);  // msg and v: no ts, caller or level in this layout
}

TEST(LogTest, ErrorReporterLogsStructuredAndStillRateLimits) {
  CapturedLog log(LogFormat::kJson);
  ErrorReporter reporter(std::chrono::hours(1));
  const Status err = IoError("read \"/x\xff\": boom");
  for (int i = 0; i < 3; ++i) reporter.Report("procfs", err, "sandbox\n1");
  reporter.Report("procfs", err, "sandbox2");
  auto lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(reporter.suppressed_logs(), 2u);
  auto r = ParseJsonLine(lines[0]);
  EXPECT_EQ(r["level"], "warn");
  EXPECT_EQ(r["source"], "procfs");
  EXPECT_EQ(r["reason"], "io");
  EXPECT_EQ(r["subject"], "sandbox\n1");
  EXPECT_EQ(r["msg"], "read \"/x\xef\xbf\xbd\": boom");
  EXPECT_EQ(ParseJsonLine(lines[1])["subject"], "sandbox2");
}

}  // namespace
}  // namespace gvisor_exporter
