#include "logchannel/record_decoder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace ft::logchannel {
namespace {

// Past this much consumed data at the front of the buffer, it is dropped
// (amortised: only when it is also more than half the buffer).
constexpr size_t kCompactBytes = size_t{1} << 20;

}  // namespace

void RecordDecoder::Feed(std::span<const uint8_t> bytes) {
  if (!error_.ok()) return;
  if (pos_ >= kCompactBytes && pos_ * 2 >= buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buf_.insert(buf_.end(), bytes.begin(), bytes.end());
}

absl::Status RecordDecoder::Fail(absl::Status status) {
  error_ =
      Annotate(status, absl::StrCat("record ", records_, " at byte ", offset_));
  buf_.clear();
  pos_ = 0;
  return error_;
}

absl::StatusOr<std::optional<RawRecord>> RecordDecoder::Next() {
  if (!error_.ok()) return error_;
  const size_t avail = buffered();
  if (avail == 0) return std::nullopt;
  const uint8_t* p = buf_.data() + pos_;
  // The magic is checked as each byte arrives, so that a peer that speaks
  // another protocol is named at once, even if it sends only a few bytes.
  // Only the first differing byte is named: the message must not depend on
  // how the stream was chunked.
  const size_t have_magic = std::min(avail, kRecordMagic.size());
  for (size_t i = 0; i < have_magic; ++i) {
    if (p[i] == kRecordMagic[i]) continue;
    return Fail(absl::DataLossError(absl::StrFormat(
        "bad magic (its byte %u is 0x%02x, not '%c' of \"FC\"): %s", i, p[i],
        kRecordMagic[i],
        records_ == 0 ? "the peer does not speak the ftvm log channel protocol"
                      : "the stream is corrupt from here on")));
  }
  if (avail < kRecordHeaderBytes) return std::nullopt;
  const std::span<const uint8_t, kRecordHeaderBytes> header_bytes(
      p, kRecordHeaderBytes);
  absl::StatusOr<RecordHeader> header = ParseRecordHeader(header_bytes);
  if (!header.ok()) return Fail(header.status());
  if (avail - kRecordHeaderBytes < header->length) return std::nullopt;

  RawRecord r;
  r.header = *header;
  std::copy(header_bytes.begin(), header_bytes.end(), r.header_bytes.begin());
  r.body.assign(p + kRecordHeaderBytes,
                p + kRecordHeaderBytes + header->length);
  r.index = records_++;
  r.offset = offset_;
  const size_t size = kRecordHeaderBytes + header->length;
  pos_ += size;
  offset_ += size;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return r;
}

absl::Status RecordDecoder::Finish() const {
  if (!error_.ok()) return error_;
  const size_t avail = buffered();
  if (avail == 0) return absl::OkStatus();
  if (avail < kRecordHeaderBytes) {
    return absl::OutOfRangeError(
        absl::StrCat("record ", records_, " at byte ", offset_,
                     ": the stream ended inside its header (", avail, " of ",
                     kRecordHeaderBytes, " bytes)"));
  }
  // Next has parsed this header already (it is whole), so it is valid.
  const uint8_t* p = buf_.data() + pos_;
  const std::span<const uint8_t, kRecordHeaderBytes> header_bytes(
      p, kRecordHeaderBytes);
  absl::StatusOr<RecordHeader> header = ParseRecordHeader(header_bytes);
  if (!header.ok()) return header.status();
  if (avail - kRecordHeaderBytes >= header->length) {
    return absl::FailedPreconditionError(
        "RecordDecoder::Finish with a whole record not yet taken by Next");
  }
  return absl::OutOfRangeError(absl::StrCat(
      "record ", records_, " at byte ", offset_,
      ": the stream ended inside its ", RecordTypeName(header->type), " body (",
      avail - kRecordHeaderBytes, " of ", header->length, " bytes)"));
}

}  // namespace ft::logchannel
