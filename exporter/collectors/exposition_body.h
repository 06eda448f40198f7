// A response body assembled from pieces that are shared, not copied: the
// identity body is the list of pieces itself; the gzip body (RFC 1952) is one
// gzip member whose deflate data is the concatenation of raw deflate streams.
//
// Why this works: a raw deflate stream ended with Z_SYNC_FLUSH (not Z_FINISH)
// stops on a byte boundary after a non-final block, so another deflate stream
// can follow it within the same member, and an independently started stream
// never refers back to the data before it. A text that is served many times
// (a snapshot's exposition) is therefore compressed once (DeflateText) and its
// compressed bytes reused as is; only the small per-response text is
// compressed per response, ended with Z_FINISH. The trailer's CRC-32 is
// combined from the pieces' CRCs (crc32_combine), so the big text is not read
// again either.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gvisor_exporter {

// A text compressed for later use inside a gzip member.
struct DeflatedText {
  std::string data;        // raw deflate, ended with a sync flush ("" for an empty text)
  uint32_t crc = 0;        // CRC-32 of the text
  uint64_t text_size = 0;  // bytes of the text
};

// Compresses `text` as a raw deflate stream (windowBits -15) at `level`
// (1..9), ended with Z_SYNC_FLUSH.
DeflatedText DeflateText(std::string_view text, int level);

// Whether a piece is a compressed one only matters to ExpositionBody; its
// users see the pieces in order.
using BodyPieces = std::vector<std::shared_ptr<const std::string>>;

// What the HTTP server serves at the telemetry path (SnapshotCollector).
class Exposition {
 public:
  virtual ~Exposition() = default;
  // The exposition as a finished body appended to `out`: identity text, or
  // with `gzip` one complete gzip member (members concatenate).
  virtual void ExpositionParts(bool gzip, BodyPieces* out) const = 0;
};

class ExpositionBody {
 public:
  // Level for text compressed per response (small; see SnapshotCollector for
  // the level of the cached snapshot text).
  static constexpr int kResponseLevel = 6;

  explicit ExpositionBody(bool gzip) : gzip_(gzip) {}

  bool gzip() const { return gzip_; }

  // A text shared by many responses. Identity: `text` itself becomes a piece
  // (not copied). Gzip: `deflated` (DeflateText of `text`) becomes a piece
  // when given; without it, the text is compressed with the next ones.
  void AddShared(std::shared_ptr<const std::string> text,
                 const std::shared_ptr<const DeflatedText>& deflated = nullptr);
  // A text made for this response.
  void AddText(std::string text);

  // The pieces in order; with gzip, exactly one gzip member (header,
  // deflate data with a final block, trailer). The body is spent.
  BodyPieces Finish();

 private:
  void FlushPending(bool final);

  bool gzip_;
  BodyPieces pieces_;
  // Gzip: text added but not compressed yet; it is compressed as one stream
  // before the next pre-compressed piece, or as the final stream.
  std::string pending_;
  uint32_t crc_ = 0;
  uint64_t size_ = 0;
};

}  // namespace gvisor_exporter
