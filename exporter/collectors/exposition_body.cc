#include "exporter/collectors/exposition_body.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <new>
#include <stdexcept>

namespace gvisor_exporter {

namespace {

// 10-byte gzip header: magic, CM=deflate, no flags, no mtime, XFL 0, OS=Unix.
const std::shared_ptr<const std::string>& GzipHeader() {
  static const auto header =
      std::make_shared<const std::string>("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
  return header;
}

void AppendLittleEndian32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t Crc32(std::string_view text) {
  return static_cast<uint32_t>(
      crc32_z(crc32_z(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(text.data()), text.size()));
}

// `text` as one raw deflate stream ended with `flush` (Z_SYNC_FLUSH or
// Z_FINISH). The window (and hash) is no larger than the text needs, so a
// small per-response text does not cost zlib's full 256 KiB of state.
std::string RawDeflate(std::string_view text, int level, int flush) {
  int window_bits = 9;  // zlib's smallest for raw deflate
  while (window_bits < 15 && (size_t{1} << window_bits) < text.size()) ++window_bits;
  const int mem_level = std::clamp(window_bits - 7, 1, 8);
  z_stream zs{};
  int rc = deflateInit2(&zs, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY);
  if (rc == Z_MEM_ERROR) throw std::bad_alloc();
  if (rc != Z_OK) throw std::logic_error("deflateInit2 failed");

  std::string out;
  // Expositions compress ~8-15x; grow when that guess is short.
  out.resize(text.size() / 8 + 256);
  size_t used = 0;
  const char* next = text.data();
  size_t left = text.size();
  while (true) {
    if (zs.avail_in == 0 && left > 0) {
      const size_t chunk = std::min<size_t>(left, UINT_MAX);
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(next));
      zs.avail_in = static_cast<uInt>(chunk);
      next += chunk;
      left -= chunk;
    }
    if (used == out.size()) out.resize(out.size() * 2);
    const size_t room = std::min<size_t>(out.size() - used, UINT_MAX);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    zs.avail_out = static_cast<uInt>(room);
    const bool last_input = left == 0;
    rc = deflate(&zs, last_input ? flush : Z_NO_FLUSH);
    used += room - zs.avail_out;
    if (rc == Z_STREAM_ERROR) {
      deflateEnd(&zs);
      throw std::logic_error("deflate failed");
    }
    if (flush == Z_FINISH ? rc == Z_STREAM_END
                          : last_input && zs.avail_in == 0 && zs.avail_out != 0) {
      break;  // all input consumed and the flush completed (output space left)
    }
  }
  deflateEnd(&zs);
  out.resize(used);
  out.shrink_to_fit();
  return out;
}

}  // namespace

DeflatedText DeflateText(std::string_view text, int level) {
  DeflatedText d;
  d.crc = Crc32(text);
  d.text_size = text.size();
  if (!text.empty()) d.data = RawDeflate(text, level, Z_SYNC_FLUSH);
  return d;
}

void ExpositionBody::AddShared(std::shared_ptr<const std::string> text,
                               const std::shared_ptr<const DeflatedText>& deflated) {
  if (!gzip_) {
    if (text && !text->empty()) pieces_.push_back(std::move(text));
    return;
  }
  if (!deflated) {
    if (text) pending_ += *text;
    return;
  }
  FlushPending(false);
  crc_ = static_cast<uint32_t>(
      crc32_combine(crc_, deflated->crc, static_cast<z_off_t>(deflated->text_size)));
  size_ += deflated->text_size;
  if (!deflated->data.empty()) {
    // Shares `deflated`'s ownership: the piece keeps the cached bytes alive.
    pieces_.push_back(std::shared_ptr<const std::string>(deflated, &deflated->data));
  }
}

void ExpositionBody::AddText(std::string text) {
  if (gzip_) {
    pending_ += text;
  } else if (!text.empty()) {
    pieces_.push_back(std::make_shared<const std::string>(std::move(text)));
  }
}

void ExpositionBody::FlushPending(bool final) {
  if (!final && pending_.empty()) return;
  std::string data = RawDeflate(pending_, kResponseLevel, final ? Z_FINISH : Z_SYNC_FLUSH);
  crc_ = static_cast<uint32_t>(
      crc32_combine(crc_, Crc32(pending_), static_cast<z_off_t>(pending_.size())));
  size_ += pending_.size();
  pending_.clear();
  if (final) {
    // Trailer: CRC-32 and ISIZE (length mod 2^32), little endian.
    AppendLittleEndian32(crc_, &data);
    AppendLittleEndian32(static_cast<uint32_t>(size_), &data);
  }
  pieces_.push_back(std::make_shared<const std::string>(std::move(data)));
}

BodyPieces ExpositionBody::Finish() {
  if (gzip_) {
    // The final stream (possibly just an empty final block) and the trailer.
    FlushPending(true);
    pieces_.insert(pieces_.begin(), GzipHeader());
  }
  return std::move(pieces_);
}

}  // namespace gvisor_exporter
