// Splits the byte stream from a peer into records (record.h), as the bytes
// arrive: fed in chunks of any size, it returns whole records with checked
// headers. Bodies are not opened here (see session_codec.h).
//
// The peer is untrusted: the header is checked as soon as it is whole, and a
// length beyond its type's bound is refused before the body is buffered, so
// a hostile length cannot make the reader allocate without bound. Errors are
// sticky (the stream is not resynchronised), are DataLoss, and name the
// record's index and byte offset; they do not depend on how the stream was
// chunked.
//
// Memory: feed a chunk, then call Next until it returns nullopt: at most one
// record plus one chunk is held.
//
// Thread ownership: one thread at a time.
#ifndef FTVM_LOGCHANNEL_RECORD_DECODER_H_
#define FTVM_LOGCHANNEL_RECORD_DECODER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "logchannel/record.h"

namespace ft::logchannel {

struct RawRecord {
  RecordHeader header;
  std::array<uint8_t, kRecordHeaderBytes> header_bytes{};  // sealing's AAD
  std::vector<uint8_t> body;
  uint64_t index = 0;   // 0 for the stream's first record
  uint64_t offset = 0;  // stream byte offset of its header
};

class RecordDecoder {
 public:
  void Feed(std::span<const uint8_t> bytes);

  // The next whole record, nullopt if more bytes are needed, or the error.
  absl::StatusOr<std::optional<RawRecord>> Next();

  // At the end of the stream, once Next returned nullopt: OK on a record
  // boundary; OutOfRange if the stream ended inside a record (saying how
  // much of it had arrived); or the sticky error.
  absl::Status Finish() const;

  uint64_t records() const { return records_; }  // returned by Next
  uint64_t offset() const { return offset_; }    // of the next record
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  absl::Status Fail(absl::Status status);

  std::vector<uint8_t> buf_;
  size_t pos_ = 0;       // start of the next record in buf_
  uint64_t offset_ = 0;  // stream offset of buf_[pos_]
  uint64_t records_ = 0;
  absl::Status error_;
};

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_RECORD_DECODER_H_
