#include "exporter/sources/control/urpc_reply.h"

#include <utility>

namespace gvisor_exporter {
namespace {

// Remote error strings end up in logs: keep them bounded.
constexpr size_t kMaxRemoteErrorLength = 512;

}  // namespace

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

JsonValueScanner::State JsonValueScanner::Feed(std::string_view chunk) {
  if (state_ != State::kNeedMore) return state_;
  for (size_t i = 0; i < chunk.size(); ++i) {
    const char c = chunk[i];
    if (strings_.Skip(c)) continue;
    if (depth_ == 0) {
      // Before the value: only whitespace, then an object or array. A bare
      // scalar could not be delimited on a stream, and no urpc peer sends one.
      if (IsJsonSpace(c)) continue;
      if (c != '{' && c != '[') return state_ = State::kMalformed;
    }
    switch (c) {
      case '"':
        strings_.Open();
        break;
      case '{':
      case '[':
        if (++depth_ > max_depth_) return state_ = State::kTooDeep;
        break;
      case '}':
      case ']':
        if (--depth_ == 0) {
          end_offset_ = consumed_ + i + 1;
          return state_ = State::kComplete;
        }
        break;
      default:
        break;
    }
  }
  consumed_ += chunk.size();
  return state_;
}

StatusOr<nlohmann::json> ParseUrpcReply(std::string_view text, size_t max_depth) {
  // nlohmann stops at a NUL byte as if the input ended there; JSON text never
  // contains one, so reject it rather than ignore what follows.
  if (text.find('\0') != std::string_view::npos) return ParseError("NUL byte in urpc reply");
  StatusOr<nlohmann::json> parsed = ParseJson(text, max_depth);
  if (!parsed.ok()) return parsed.status().WithContext("urpc reply");
  nlohmann::json& reply = *parsed;
  if (!reply.is_object()) return ParseError("urpc reply is not an object");
  auto success = reply.find("success");
  if (success == reply.end() || !success->is_boolean()) {
    return ParseError("urpc reply has no boolean \"success\"");
  }
  if (!success->get<bool>()) {
    std::string err;
    if (!GetString(reply, "err", &err) || err.empty()) err = "(no error text)";
    if (err.size() > kMaxRemoteErrorLength) err.resize(kMaxRemoteErrorLength);
    return RemoteError(std::move(err));
  }
  auto result = reply.find("result");
  if (result == reply.end()) return nlohmann::json();
  return std::move(*result);
}

std::string EncodeUrpcRequest(std::string_view method, const nlohmann::json& arg) {
  nlohmann::json request = nlohmann::json::object();
  request["method"] = std::string(method);
  request["arg"] = arg;
  return request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace gvisor_exporter
