#include "exporter/app/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>

namespace gvisor_exporter {

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

namespace {

// %* renders the message JSON-escaped, so a message carrying input from a
// sandbox (a file name, a socket reply) cannot break the JSON line.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string escaped = JsonEscape(std::string(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

Status SetUpLogging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_logger_mt("gvisor-exporter");
  spdlog::set_default_logger(logger);
  auto lvl = spdlog::level::from_str(level == "warn" ? "warning" : level);
  spdlog::set_level(lvl);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == "json") {
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%*"})");
  } else {
    // Messages are already key=value pairs or plain text.
    formatter->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l %v");
  }
  spdlog::set_formatter(std::move(formatter));
  spdlog::flush_on(spdlog::level::info);
  return Status::Ok();
}

}  // namespace gvisor_exporter
