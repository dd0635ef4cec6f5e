#include "tools/ftlog/log_scanner.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <span>
#include <utility>

#include "absl/strings/str_format.h"
#include "common/status.h"
#include "replay/frame.h"

namespace ft::ftlog {
namespace {

constexpr size_t kReadChunkBytes = size_t{1} << 20;

uint32_t GetLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
         uint32_t{p[3]} << 24;
}

}  // namespace

absl::StatusOr<LogScanner> LogScanner::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrFormat("opening log %s", path));
  }
  LogScanner scanner(path, std::move(fd));
  while (true) {
    absl::StatusOr<bool> have = scanner.decoder_.ReadHeader();
    if (!have.ok()) return scanner.WithPath(have.status());
    if (*have) break;
    FT_ASSIGN_OR_RETURN(const size_t fed, scanner.FeedFrame());
    if (fed == 0) {
      const absl::Status end = scanner.decoder_.Finish();
      if (end.ok()) {  // cannot happen: Finish refuses a log without header
        return absl::InternalError("a clean end without a header");
      }
      return scanner.WithPath(end);
    }
  }
  scanner.header_bytes_ = scanner.decoder_.bytes_decoded();
  scanner.mark_ = scanner.header_bytes_;
  scanner.frames_pending_ = 0;
  return scanner;
}

absl::Status LogScanner::WithPath(const absl::Status& status) const {
  return Annotate(status, absl::StrFormat("log %s", path_));
}

absl::Status LogScanner::Fill(size_t bytes) {
  while (buf_.size() - pos_ < bytes && !eof_) {
    if (pos_ > 0) {  // keep only what is not fed yet
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(pos_));
      pos_ = 0;
    }
    const size_t old = buf_.size();
    buf_.resize(old + std::max(kReadChunkBytes, bytes - old));
    ssize_t n;
    do {
      n = ::read(fd_.get(), buf_.data() + old, buf_.size() - old);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      const int err = errno;
      buf_.resize(old);
      return ErrnoStatus(err, absl::StrFormat("reading log %s", path_));
    }
    buf_.resize(old + static_cast<size_t>(n));
    if (n == 0) eof_ = true;
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> LogScanner::FeedFrame() {
  FT_RETURN_IF_ERROR(Fill(replay::kFrameHeaderBytes));
  size_t avail = buf_.size() - pos_;
  size_t n = std::min(avail, replay::kFrameHeaderBytes);
  if (avail >= replay::kFrameHeaderBytes) {
    const uint32_t length = GetLe32(buf_.data() + pos_ + 4);
    // An oversized length is fed as it is: the decoder refuses it (DataLoss)
    // from the frame header alone.
    if (length <= replay::kMaxFramePayloadBytes) {
      FT_RETURN_IF_ERROR(Fill(replay::kFrameHeaderBytes + length));
      avail = buf_.size() - pos_;
      n = std::min(avail, replay::kFrameHeaderBytes + length);
    }
  }
  decoder_.Feed(std::span<const uint8_t>(buf_.data() + pos_, n));
  pos_ += n;
  if (n > 0) ++frames_pending_;
  return n;
}

absl::StatusOr<std::optional<ScannedEntry>> LogScanner::Next() {
  while (true) {
    absl::StatusOr<std::optional<replay::LogEntry>> entry = decoder_.Next();
    if (!entry.ok()) return WithPath(entry.status());
    if (entry->has_value()) {
      const uint64_t end = decoder_.bytes_decoded();
      ScannedEntry scanned{.entry = std::move(**entry),
                           .offset = mark_,
                           .bytes = end - mark_,
                           .frames = frames_pending_};
      mark_ = end;
      frames_pending_ = 0;
      return scanned;
    }
    if (decoder_.skipped() != skipped_seen_) {
      // The frame just fed was an entry of an unknown skippable kind.
      skipped_seen_ = decoder_.skipped();
      skipped_bytes_ += decoder_.bytes_decoded() - mark_;
      mark_ = decoder_.bytes_decoded();
      frames_pending_ = 0;
    }
    FT_ASSIGN_OR_RETURN(const size_t fed, FeedFrame());
    if (fed == 0) {
      FT_RETURN_IF_ERROR(WithPath(decoder_.Finish()));
      return std::nullopt;
    }
  }
}

}  // namespace ft::ftlog
