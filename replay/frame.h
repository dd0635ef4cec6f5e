// Framing of the execution log, on disk and on the wire
// (docs/log-format.md, "Frames"):
//
//   magic "FTLF" (4 bytes) | payload length (u32 LE) | CRC-32C of the
//   payload (u32 LE) | payload (length bytes, at most kMaxFramePayloadBytes)
//
// The payload is opaque here (a Cap'n Proto message, see log_codec.h).
// FrameDecoder takes a byte stream in chunks of any size, as a file read or
// a socket delivers it, and returns whole, checksummed frames.
#ifndef FTVM_REPLAY_FRAME_H_
#define FTVM_REPLAY_FRAME_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ft::replay {

inline constexpr std::array<uint8_t, 4> kFrameMagic = {'F', 'T', 'L', 'F'};
inline constexpr size_t kFrameHeaderBytes = 12;
// Larger frames are refused before their payload is buffered, so a corrupt
// or hostile length cannot make a reader allocate without bound.
inline constexpr size_t kMaxFramePayloadBytes = size_t{32} << 20;

// Appends one frame holding `payload` to `out`. The payload must be at most
// kMaxFramePayloadBytes (checked: the writer bounds what it encodes).
void AppendFrame(std::span<const uint8_t> payload, std::vector<uint8_t>& out);

struct Frame {
  uint64_t index = 0;   // 0 for the stream's first frame
  uint64_t offset = 0;  // the stream byte offset of the frame's magic
  std::vector<uint8_t> payload;
};

// Splits a byte stream into frames. Errors are sticky: after one, every
// call returns it (a log stream is not resynchronised; a damaged log is
// refused from the damage on). Error codes: DataLoss for corruption (bad
// magic, oversized length, checksum mismatch), OutOfRange for a stream that
// ends inside a frame. Messages name the frame index and byte offset.
//
// Memory: the decoder buffers what is fed and not yet returned; feed a chunk,
// then call Next until it returns nullopt, and at most one frame plus one
// chunk is held.
//
// Thread ownership: one thread at a time (not synchronised).
class FrameDecoder {
 public:
  // Appends the next bytes of the stream.
  void Feed(std::span<const uint8_t> bytes);

  // The next whole frame, nullopt if more bytes are needed, or an error.
  absl::StatusOr<std::optional<Frame>> Next();

  // At the end of the stream, once Next has returned nullopt: OK if the
  // stream ended on a frame boundary, OutOfRange ("truncated") if it ended
  // inside a frame, or the sticky error.
  absl::Status Finish() const;

  uint64_t frames() const { return frames_; }  // frames returned so far
  uint64_t offset() const { return offset_; }  // offset of the next frame
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;       // start of the next frame in buf_
  uint64_t offset_ = 0;  // stream offset of buf_[pos_]
  uint64_t frames_ = 0;
  absl::Status error_;
};

}  // namespace ft::replay

#endif  // FTVM_REPLAY_FRAME_H_
