#include "replay/frame.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "common/check.h"
#include "replay/crc32c.h"

namespace ft::replay {
namespace {

// Past this much consumed data at the front of the buffer, it is dropped
// (amortised: only when it is also more than half the buffer).
constexpr size_t kCompactBytes = size_t{1} << 20;

void PutLe32(uint32_t v, std::vector<uint8_t>& out) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint32_t GetLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
         uint32_t{p[3]} << 24;
}

}  // namespace

void AppendFrame(std::span<const uint8_t> payload, std::vector<uint8_t>& out) {
  FT_CHECK(payload.size() <= kMaxFramePayloadBytes)
      << "frame payload of " << payload.size() << " bytes";
  out.insert(out.end(), kFrameMagic.begin(), kFrameMagic.end());
  PutLe32(static_cast<uint32_t>(payload.size()), out);
  PutLe32(Crc32c(payload), out);
  out.insert(out.end(), payload.begin(), payload.end());
}

void FrameDecoder::Feed(std::span<const uint8_t> bytes) {
  if (!error_.ok()) return;
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

absl::StatusOr<std::optional<Frame>> FrameDecoder::Next() {
  if (!error_.ok()) return error_;
  const size_t avail = buffered();
  if (avail == 0) return std::nullopt;
  const uint8_t* p = buf_.data() + pos_;
  // The magic is checked as soon as any of it is here, so that a file that
  // is not a log is named as such even when it is shorter than a header.
  const size_t have_magic = std::min(avail, kFrameMagic.size());
  // Only the first differing byte is named: the error must not depend on how
  // the stream was chunked.
  for (size_t i = 0; i < have_magic; ++i) {
    if (p[i] == kFrameMagic[i]) continue;
    error_ = absl::DataLossError(absl::StrFormat(
        "frame %u at byte %u: bad magic (its byte %u is 0x%02x, not '%c' of "
        "\"FTLF\"): %s",
        frames_, offset_, i, p[i], kFrameMagic[i],
        frames_ == 0 ? "not an ftvm execution log"
                     : "the log is corrupt from here on"));
    return error_;
  }
  if (avail < kFrameHeaderBytes) return std::nullopt;
  const uint32_t length = GetLe32(p + 4);
  if (length > kMaxFramePayloadBytes) {
    error_ = absl::DataLossError(absl::StrFormat(
        "frame %u at byte %u: payload length %u exceeds the bound of %u bytes "
        "(a corrupt length)",
        frames_, offset_, length, kMaxFramePayloadBytes));
    return error_;
  }
  if (avail - kFrameHeaderBytes < length) return std::nullopt;
  const std::span<const uint8_t> payload(p + kFrameHeaderBytes, length);
  const uint32_t stored = GetLe32(p + 8);
  const uint32_t computed = Crc32c(payload);
  if (stored != computed) {
    error_ = absl::DataLossError(absl::StrFormat(
        "frame %u at byte %u: checksum mismatch (stored 0x%08x, computed "
        "0x%08x over %u payload bytes): the log is corrupt from here on",
        frames_, offset_, stored, computed, length));
    return error_;
  }
  Frame frame{.index = frames_,
              .offset = offset_,
              .payload = std::vector<uint8_t>(payload.begin(), payload.end())};
  const size_t consumed = kFrameHeaderBytes + length;
  pos_ += consumed;
  offset_ += consumed;
  ++frames_;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > kCompactBytes && pos_ > buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(pos_));
    pos_ = 0;
  }
  return frame;
}

absl::Status FrameDecoder::Finish() const {
  if (!error_.ok()) return error_;
  const size_t avail = buffered();
  if (avail == 0) return absl::OkStatus();
  if (avail < kFrameHeaderBytes) {
    return absl::OutOfRangeError(absl::StrFormat(
        "frame %u at byte %u: truncated: the log ends %u bytes into the "
        "%u-byte frame header",
        frames_, offset_, avail, kFrameHeaderBytes));
  }
  const uint32_t length = GetLe32(buf_.data() + pos_ + 4);
  FT_CHECK(avail - kFrameHeaderBytes < length)
      << "FrameDecoder::Finish with a whole frame unread";
  return absl::OutOfRangeError(absl::StrFormat(
      "frame %u at byte %u: truncated: the log ends after %u of the frame's "
      "%u payload bytes",
      frames_, offset_, avail - kFrameHeaderBytes, length));
}

}  // namespace ft::replay
