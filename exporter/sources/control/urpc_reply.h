// Framing and envelope of gVisor's urpc protocol, as pure functions.
//
// urpc has no length prefix or delimiter: a reply is exactly one JSON value
// written to the stream. A reader therefore has to know when the top-level
// value has ended. JsonValueScanner tracks that incrementally (nesting depth,
// strings, escapes) over each chunk as it arrives, so completeness costs O(new
// bytes) per chunk instead of re-parsing the whole buffer every time.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "exporter/common/json_util.h"
#include "exporter/common/status.h"

namespace gvisor_exporter {

class JsonValueScanner {
 public:
  enum class State {
    kNeedMore,   // the value has not ended yet
    kComplete,   // the top-level value ended (see end_offset())
    kMalformed,  // not something a urpc peer sends: top level must be {...} or [...]
    kTooDeep,    // nesting exceeds max_depth
  };

  explicit JsonValueScanner(size_t max_depth = kDefaultMaxJsonDepth) : max_depth_(max_depth) {}

  // Scans the next chunk of the stream. Once the state is final (anything but
  // kNeedMore) further calls return it unchanged and consume nothing.
  State Feed(std::string_view chunk);
  State state() const { return state_; }
  // Total bytes fed up to and including the value's closing bracket; only
  // meaningful in kComplete. Bytes after it belong to no reply.
  size_t end_offset() const { return end_offset_; }
  void Reset() { *this = JsonValueScanner(max_depth_); }

 private:
  size_t max_depth_;
  State state_ = State::kNeedMore;
  size_t depth_ = 0;
  size_t consumed_ = 0;
  size_t end_offset_ = 0;
  JsonStringSkipper strings_;
};

// True for the JSON insignificant whitespace characters.
bool IsJsonSpace(char c);

// Decodes a complete reply {"success":bool,"err":string,"result":any}: returns
// `result` (null when absent) on success, kRemote carrying `err` when the
// server said success:false, kParse for anything else that is not an envelope.
StatusOr<nlohmann::json> ParseUrpcReply(std::string_view text,
                                        size_t max_depth = kDefaultMaxJsonDepth);

// Serializes a request {"method":...,"arg":...}. Never throws: invalid UTF-8
// in strings is replaced rather than rejected.
std::string EncodeUrpcRequest(std::string_view method, const nlohmann::json& arg);

}  // namespace gvisor_exporter
