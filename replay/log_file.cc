#include "replay/log_file.h"

#include <utility>

#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/status.h"
#include "replay/frame.h"

namespace ft::replay {
namespace {

constexpr size_t kReadChunkBytes = size_t{1} << 20;

}  // namespace

namespace {

// The header frame's payload, once the options and the header are checked
// (before anything is created or written).
absl::StatusOr<std::vector<uint8_t>> CheckedHeader(
    const LogWriter::Options& options, const LogHeader& header) {
  if (options.encode.pages_per_frame == 0 ||
      options.encode.pages_per_frame > kMaxPagesPerFrame) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%u pages per frame (must be 1..%u)",
                        options.encode.pages_per_frame, kMaxPagesPerFrame));
  }
  return EncodeHeader(header);
}

}  // namespace

absl::StatusOr<LogWriter> LogWriter::Create(const Options& options,
                                            const LogHeader& header) {
  FT_ASSIGN_OR_RETURN(std::vector<uint8_t> payload,
                      CheckedHeader(options, header));
  FT_ASSIGN_OR_RETURN(std::unique_ptr<ByteSink> sink,
                      CreateFileSink(options.path, options.overwrite));
  return Start(std::move(sink), options, header, payload);
}

absl::StatusOr<LogWriter> LogWriter::Create(std::unique_ptr<ByteSink> sink,
                                            const Options& options,
                                            const LogHeader& header) {
  FT_ASSIGN_OR_RETURN(std::vector<uint8_t> payload,
                      CheckedHeader(options, header));
  return Start(std::move(sink), options, header, payload);
}

absl::StatusOr<LogWriter> LogWriter::Start(
    std::unique_ptr<ByteSink> sink, const Options& options,
    const LogHeader& header, std::span<const uint8_t> header_payload) {
  LogWriter writer(options, header, std::move(sink));
  AppendFrame(header_payload, writer.buffer_);
  // The header goes out at once: from creation on, the file is a valid
  // (empty) log.
  FT_RETURN_IF_ERROR(writer.Flush());
  return writer;
}

absl::Status LogWriter::Append(const LogEntry& entry) {
  if (!error_.ok()) return error_;
  const LogPosition& at = EntryPosition(entry);
  FT_ASSIGN_OR_RETURN(std::vector<std::vector<uint8_t>> payloads,
                      EncodeEntry(entry, header_.guest, options_.encode));
  FT_RETURN_IF_ERROR(
      sequencer_.Accept(at, std::holds_alternative<MicroCheckpoint>(entry),
                        std::holds_alternative<EndEntry>(entry)));
  for (const std::vector<uint8_t>& payload : payloads) {
    AppendFrame(payload, buffer_);
  }
  ++entries_;
  if (buffer_.size() >= options_.buffer_bytes) return WriteBuffer();
  return absl::OkStatus();
}

absl::Status LogWriter::WriteBuffer() {
  if (!error_.ok()) return error_;
  if (sink_ == nullptr) {
    return error_ = absl::FailedPreconditionError("the log is closed");
  }
  if (buffer_.empty()) return absl::OkStatus();
  if (absl::Status s = sink_->Write(buffer_); !s.ok()) return error_ = s;
  written_ += buffer_.size();
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status LogWriter::Flush() {
  FT_RETURN_IF_ERROR(WriteBuffer());
  if (options_.sync_on_flush) {
    if (absl::Status s = sink_->Sync(); !s.ok()) return error_ = s;
  }
  return absl::OkStatus();
}

absl::Status LogWriter::Close() {
  absl::Status status = Flush();
  if (sink_ != nullptr) {
    absl::Status closed = sink_->Close();
    if (status.ok()) status = closed;
    sink_.reset();
  }
  if (error_.ok()) {
    error_ = absl::FailedPreconditionError("the log is closed");
  }
  return status;
}

absl::StatusOr<LogReader> LogReader::Open(const std::string& path) {
  FT_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenFileSource(path));
  return Open(std::move(source));
}

absl::StatusOr<LogReader> LogReader::Open(std::unique_ptr<ByteSource> source) {
  LogReader reader(std::move(source));
  while (true) {
    absl::StatusOr<bool> have = reader.decoder_.ReadHeader();
    if (!have.ok()) return reader.WithPath(have.status());
    if (*have) break;
    FT_ASSIGN_OR_RETURN(const bool more, reader.ReadChunk());
    if (!more) {
      const absl::Status end = reader.decoder_.Finish();
      FT_CHECK(!end.ok()) << "a clean end without a header";
      return reader.WithPath(end);
    }
  }
  return reader;
}

absl::Status LogReader::WithPath(const absl::Status& status) const {
  return Annotate(status, source_->Describe());
}

absl::StatusOr<bool> LogReader::ReadChunk() {
  if (eof_) return false;
  chunk_.resize(kReadChunkBytes);
  FT_ASSIGN_OR_RETURN(const size_t n, source_->Read(chunk_));
  if (n == 0) {
    eof_ = true;
    return false;
  }
  decoder_.Feed(std::span<const uint8_t>(chunk_.data(), n));
  return true;
}

absl::StatusOr<std::optional<LogEntry>> LogReader::Next() {
  while (true) {
    absl::StatusOr<std::optional<LogEntry>> entry = decoder_.Next();
    if (!entry.ok()) return WithPath(entry.status());
    if (entry->has_value()) return entry;
    FT_ASSIGN_OR_RETURN(const bool more, ReadChunk());
    if (!more) {
      FT_RETURN_IF_ERROR(WithPath(decoder_.Finish()));
      return std::nullopt;
    }
  }
}

}  // namespace ft::replay
