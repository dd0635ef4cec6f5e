// Decoding an execution log from a byte stream (a file, or later a log
// channel connection): frames, then the header, then entries, with
// micro-checkpoints reassembled from their frames and the order of
// positions checked. LogReader (log_file.h) is this plus file reads.
#ifndef FTVM_REPLAY_LOG_DECODER_H_
#define FTVM_REPLAY_LOG_DECODER_H_

#include <cstdint>
#include <optional>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/frame.h"
#include "replay/log_entry.h"

namespace ft::replay {

// The order rules of entries (docs/log-format.md, "Order"): position counts
// never decrease; entries with the same count have the same signature; a
// checkpoint opens a new position, and a new position of kind checkpoint
// opens with its checkpoint; nothing follows the end entry. The writer runs
// it on what it appends and the decoder on what it reads. A refused entry
// leaves the state unchanged.
//
// Thread ownership: one thread at a time.
class EntrySequencer {
 public:
  // `starts_checkpoint`: the entry is a micro-checkpoint; `is_end`: the end.
  absl::Status Accept(const LogPosition& at, bool starts_checkpoint,
                      bool is_end);
  bool ended() const { return ended_; }
  const LogPosition& last() const { return last_; }

 private:
  LogPosition last_;  // the start
  bool ended_ = false;
};

// Feed stream bytes in chunks of any size; take entries out with Next.
// Errors are sticky and name the frame index and byte offset; codes as in
// FrameDecoder and log_codec.h, plus InvalidArgument for entries out of
// order or a checkpoint whose pages do not add up, and OutOfRange for a
// stream that ends inside a frame or inside a checkpoint.
//
// Thread ownership: one thread at a time.
class LogDecoder {
 public:
  void Feed(std::span<const uint8_t> bytes) { frames_.Feed(bytes); }

  // Decodes the header frame if it has arrived: true once the header is
  // available, false if more bytes are needed.
  absl::StatusOr<bool> ReadHeader();
  bool has_header() const { return header_.has_value(); }
  // Only once has_header().
  const LogHeader& header() const;

  // The next whole entry; nullopt if more bytes are needed. Reads the header
  // first if that has not been done.
  absl::StatusOr<std::optional<LogEntry>> Next();

  // At the end of the stream, once Next has returned nullopt: OK for a clean
  // end (on a frame boundary, outside a checkpoint, after the header), else
  // the error. A clean end without an end entry is a run that was cut short
  // (the primary died); ended() tells the two apart.
  absl::Status Finish();

  bool ended() const { return sequencer_.ended(); }
  uint64_t entries() const { return entries_; }  // returned by Next
  uint64_t skipped() const { return skipped_; }  // unknown skippable kinds
  uint64_t bytes_decoded() const { return frames_.offset(); }

 private:
  struct OpenCheckpoint {
    MicroCheckpoint checkpoint;
    uint64_t total_pages = 0;
    uint64_t frame = 0;  // the head's frame index and offset, for errors
    uint64_t offset = 0;
  };

  absl::Status Fail(absl::Status status);
  absl::Status FailAt(const Frame& frame, const absl::Status& status);
  // The entry `frame` completes, if any.
  absl::StatusOr<std::optional<LogEntry>> Apply(const Frame& frame);

  FrameDecoder frames_;
  std::optional<LogHeader> header_;
  EntrySequencer sequencer_;
  std::optional<OpenCheckpoint> open_;
  uint64_t entries_ = 0;
  uint64_t skipped_ = 0;
  absl::Status error_;
};

}  // namespace ft::replay

#endif  // FTVM_REPLAY_LOG_DECODER_H_
