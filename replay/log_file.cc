#include "replay/log_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/status.h"
#include "replay/frame.h"

namespace ft::replay {
namespace {

constexpr size_t kReadChunkBytes = size_t{1} << 20;

}  // namespace

absl::StatusOr<LogWriter> LogWriter::Create(const Options& options,
                                            const LogHeader& header) {
  if (options.encode.pages_per_frame == 0 ||
      options.encode.pages_per_frame > kMaxPagesPerFrame) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%u pages per frame (must be 1..%u)",
                        options.encode.pages_per_frame, kMaxPagesPerFrame));
  }
  FT_ASSIGN_OR_RETURN(std::vector<uint8_t> payload, EncodeHeader(header));
  const int flags =
      O_WRONLY | O_CREAT | O_CLOEXEC | (options.overwrite ? O_TRUNC : O_EXCL);
  UniqueFd fd(::open(options.path.c_str(), flags, 0644));
  if (!fd.valid()) {
    return ErrnoStatus(
        errno, absl::StrFormat(
                   "creating log %s%s", options.path,
                   errno == EEXIST ? " (it exists; remove it first)" : ""));
  }
  LogWriter writer(options, header, std::move(fd));
  AppendFrame(payload, writer.buffer_);
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
  if (!fd_.valid()) {
    return error_ = absl::FailedPreconditionError(
               absl::StrFormat("log %s is closed", options_.path));
  }
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n =
        ::write(fd_.get(), buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error_ = ErrnoStatus(
                 errno, absl::StrFormat("writing log %s", options_.path));
    }
    done += static_cast<size_t>(n);
  }
  written_ += buffer_.size();
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status LogWriter::Flush() {
  FT_RETURN_IF_ERROR(WriteBuffer());
  if (options_.sync_on_flush && ::fdatasync(fd_.get()) != 0) {
    return error_ = ErrnoStatus(
               errno, absl::StrFormat("syncing log %s", options_.path));
  }
  return absl::OkStatus();
}

absl::Status LogWriter::Close() {
  absl::Status status = Flush();
  if (fd_.valid() && ::close(fd_.Release()) != 0 && status.ok()) {
    status =
        ErrnoStatus(errno, absl::StrFormat("closing log %s", options_.path));
  }
  if (error_.ok()) {
    error_ = absl::FailedPreconditionError(
        absl::StrFormat("log %s is closed", options_.path));
  }
  return status;
}

absl::StatusOr<LogReader> LogReader::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrFormat("opening log %s", path));
  }
  LogReader reader(path, std::move(fd));
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
  return Annotate(status, absl::StrFormat("log %s", path_));
}

absl::StatusOr<bool> LogReader::ReadChunk() {
  if (eof_) return false;
  chunk_.resize(kReadChunkBytes);
  while (true) {
    const ssize_t n = ::read(fd_.get(), chunk_.data(), chunk_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrFormat("reading log %s", path_));
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    decoder_.Feed(
        std::span<const uint8_t>(chunk_.data(), static_cast<size_t>(n)));
    return true;
  }
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
