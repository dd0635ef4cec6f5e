#include "replay/log_decoder.h"

#include <utility>
#include <variant>

#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/status.h"
#include "replay/log_codec.h"
#include "replay/log_validate.h"

namespace ft::replay {

absl::Status EntrySequencer::Accept(const LogPosition& at,
                                    bool starts_checkpoint, bool is_end) {
  if (ended_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "an entry at position %s after the end entry", at.ToString()));
  }
  if (at.position < last_.position) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "position %s goes back from %s", at.ToString(), last_.ToString()));
  }
  if (at.position == last_.position) {
    if (starts_checkpoint) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "a checkpoint at position %s, which earlier entries already used "
          "(a checkpoint is a position of its own)",
          at.ToString()));
    }
    if (at.exit != last_.exit) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "position %s differs from earlier entries at the same count (%s)",
          at.ToString(), last_.ToString()));
    }
  } else if (at.exit.kind == ExitKind::kCheckpoint && !starts_checkpoint) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "position %s is a checkpoint, but its first entry is not the "
        "checkpoint",
        at.ToString()));
  }
  last_ = at;
  ended_ = is_end;
  return absl::OkStatus();
}

const LogHeader& LogDecoder::header() const {
  FT_CHECK(header_.has_value()) << "LogDecoder::header before the header";
  return *header_;
}

absl::Status LogDecoder::Fail(absl::Status status) {
  error_ = std::move(status);
  return error_;
}

absl::Status LogDecoder::FailAt(const Frame& frame,
                                const absl::Status& status) {
  return Fail(Annotate(status, absl::StrFormat("frame %u at byte %u",
                                               frame.index, frame.offset)));
}

absl::StatusOr<bool> LogDecoder::ReadHeader() {
  if (!error_.ok()) return error_;
  if (header_.has_value()) return true;
  absl::StatusOr<std::optional<Frame>> frame = frames_.Next();
  if (!frame.ok()) return Fail(frame.status());
  if (!frame->has_value()) return false;
  absl::StatusOr<LogHeader> header = DecodeHeader((*frame)->payload);
  if (!header.ok()) return FailAt(**frame, header.status());
  header_ = *std::move(header);
  return true;
}

absl::StatusOr<std::optional<LogEntry>> LogDecoder::Next() {
  if (!error_.ok()) return error_;
  if (!header_.has_value()) {
    FT_ASSIGN_OR_RETURN(const bool have_header, ReadHeader());
    if (!have_header) return std::nullopt;
  }
  while (true) {
    absl::StatusOr<std::optional<Frame>> frame = frames_.Next();
    if (!frame.ok()) return Fail(frame.status());
    if (!frame->has_value()) return std::nullopt;
    absl::StatusOr<std::optional<LogEntry>> entry = Apply(**frame);
    if (!entry.ok()) return FailAt(**frame, entry.status());
    if (entry->has_value()) {
      ++entries_;
      return entry;
    }
  }
}

absl::StatusOr<std::optional<LogEntry>> LogDecoder::Apply(const Frame& frame) {
  FT_ASSIGN_OR_RETURN(LogRecord record,
                      DecodeRecord(frame.payload, header_->guest));
  if (open_.has_value()) {
    auto* more = std::get_if<CheckpointPages>(&record);
    if (more == nullptr) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "the checkpoint in frame %u (byte %u) declares %u pages but only %u "
          "arrived before this entry",
          open_->frame, open_->offset, open_->total_pages,
          open_->checkpoint.pages.size()));
    }
    std::vector<DirtyPage>& pages = open_->checkpoint.pages;
    if (more->at != open_->checkpoint.at) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "checkpoint pages at position %s continue the checkpoint at %s",
          more->at.ToString(), open_->checkpoint.at.ToString()));
    }
    if (more->pages.size() > open_->total_pages - pages.size()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%u more checkpoint pages after %u of the %u declared",
          more->pages.size(), pages.size(), open_->total_pages));
    }
    FT_RETURN_IF_ERROR(
        ValidatePages(more->pages, header_->guest, pages.back().gfn));
    pages.insert(pages.end(), std::make_move_iterator(more->pages.begin()),
                 std::make_move_iterator(more->pages.end()));
    if (pages.size() < open_->total_pages) return std::nullopt;
    LogEntry done(std::move(open_->checkpoint));
    open_.reset();
    return done;
  }
  if (auto* head = std::get_if<CheckpointHead>(&record)) {
    FT_RETURN_IF_ERROR(sequencer_.Accept(head->checkpoint.at,
                                         /*starts_checkpoint=*/true,
                                         /*is_end=*/false));
    if (head->checkpoint.pages.size() == head->total_pages) {
      return LogEntry(std::move(head->checkpoint));
    }
    if (head->checkpoint.pages.empty()) {
      // The continuation's gfns could not be checked against a previous one.
      return absl::InvalidArgumentError(absl::StrFormat(
          "a checkpoint of %u pages holds none in its first frame",
          head->total_pages));
    }
    open_ = OpenCheckpoint{.checkpoint = std::move(head->checkpoint),
                           .total_pages = head->total_pages,
                           .frame = frame.index,
                           .offset = frame.offset};
    return std::nullopt;
  }
  if (std::holds_alternative<CheckpointPages>(record)) {
    return absl::InvalidArgumentError(
        "checkpoint pages without a checkpoint before them");
  }
  if (const auto* skipped = std::get_if<SkippedEntry>(&record)) {
    FT_RETURN_IF_ERROR(sequencer_.Accept(skipped->at, false, false));
    ++skipped_;
    return std::nullopt;
  }
  std::optional<LogEntry> entry = RecordToEntry(std::move(record));
  FT_CHECK(entry.has_value());
  FT_RETURN_IF_ERROR(
      sequencer_.Accept(EntryPosition(*entry), /*starts_checkpoint=*/false,
                        std::holds_alternative<EndEntry>(*entry)));
  return entry;
}

absl::Status LogDecoder::Finish() {
  if (!error_.ok()) return error_;
  FT_RETURN_IF_ERROR(Fail(frames_.Finish()));
  if (!header_.has_value()) {
    return Fail(absl::OutOfRangeError(
        "truncated: the log ends before its header frame (an empty log)"));
  }
  if (open_.has_value()) {
    return Fail(absl::OutOfRangeError(absl::StrFormat(
        "truncated: the log ends inside the checkpoint in frame %u (byte %u), "
        "after %u of its %u pages",
        open_->frame, open_->offset, open_->checkpoint.pages.size(),
        open_->total_pages)));
  }
  return absl::OkStatus();
}

}  // namespace ft::replay
