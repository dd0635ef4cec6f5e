// Execution log files: LogWriter records a run to a file, LogReader reads one
// back (for `ftlog` and for replay from a file). The format is
// docs/log-format.md; the streaming decoder for network peers is
// replay/log_decoder.h.
#ifndef FTVM_REPLAY_LOG_FILE_H_
#define FTVM_REPLAY_LOG_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replay/byte_stream.h"
#include "replay/log_codec.h"
#include "replay/log_decoder.h"
#include "replay/log_entry.h"

namespace ft::replay {

// Creates a log file, writes the header frame at once, then appends entry
// frames. Entries are validated and their order checked before anything is
// written (the same checks a reader applies), so a refused entry leaves the
// log as it was. Frames are buffered; Flush writes them out.
//
// A write error is sticky: the log then ends at the last whole frame
// written, or with a torn frame that readers report as truncated.
//
// Thread ownership: one thread at a time (the recorder's).
class LogWriter {
 public:
  struct Options {
    std::string path;
    // Replace an existing file; otherwise an existing file is refused.
    bool overwrite = false;
    // fdatasync in Flush, so that flushed entries survive a host crash.
    bool sync_on_flush = false;
    EncodeOptions encode;
    // Buffered frames are written out (without sync) past this many bytes.
    size_t buffer_bytes = size_t{1} << 20;
  };

  static absl::StatusOr<LogWriter> Create(const Options& options,
                                          const LogHeader& header);
  // The same log written to `sink` (options.path and overwrite unused).
  static absl::StatusOr<LogWriter> Create(std::unique_ptr<ByteSink> sink,
                                          const Options& options,
                                          const LogHeader& header);

  LogWriter(LogWriter&&) = default;
  LogWriter& operator=(LogWriter&&) = default;
  // Closes the file without flushing: entries not flushed are lost (a
  // destructor cannot report a write error; call Close).
  ~LogWriter() = default;

  const LogHeader& header() const { return header_; }

  // InvalidArgument for an entry that breaks a bound or the order rules
  // (nothing is written), or the write error.
  absl::Status Append(const LogEntry& entry);
  // Writes buffered frames, and syncs if the options say so.
  absl::Status Flush();
  // Flush, then close. Later calls fail.
  absl::Status Close();

  uint64_t entries() const { return entries_; }
  // Bytes of the log so far, including buffered ones.
  uint64_t bytes() const { return written_ + buffer_.size(); }

 private:
  LogWriter(Options options, LogHeader header, std::unique_ptr<ByteSink> sink)
      : options_(std::move(options)),
        header_(std::move(header)),
        sink_(std::move(sink)) {}
  // Writes the checked header frame to `sink`.
  static absl::StatusOr<LogWriter> Start(
      std::unique_ptr<ByteSink> sink, const Options& options,
      const LogHeader& header, std::span<const uint8_t> header_payload);
  absl::Status WriteBuffer();

  Options options_;
  LogHeader header_;
  std::unique_ptr<ByteSink> sink_;  // null once closed
  EntrySequencer sequencer_;
  std::vector<uint8_t> buffer_;
  uint64_t written_ = 0;
  uint64_t entries_ = 0;
  absl::Status error_;
};

// Opens a log file, checks its header (refusing a log that needs a newer
// reader), then returns its entries in order.
//
// Thread ownership: one thread at a time.
class LogReader {
 public:
  static absl::StatusOr<LogReader> Open(const std::string& path);
  // A log read from `source` (a file, or the log channel from a primary):
  // blocks until the header has arrived.
  static absl::StatusOr<LogReader> Open(std::unique_ptr<ByteSource> source);

  const LogHeader& header() const { return decoder_.header(); }

  // The next entry; nullopt at a clean end of the file (on a frame boundary,
  // outside a checkpoint). Errors (sticky) name the file, frame and byte:
  // OutOfRange if the file ends inside a frame or a checkpoint (a torn
  // write: the entries before it are whole), DataLoss for corruption,
  // InvalidArgument for entries out of bounds or order, FailedPrecondition
  // for an entry kind from a newer writer.
  absl::StatusOr<std::optional<LogEntry>> Next();

  // The end entry was read: the run ended normally rather than being cut
  // short.
  bool ended() const { return decoder_.ended(); }
  // Entries of unknown skippable kinds passed over.
  uint64_t skipped() const { return decoder_.skipped(); }

 private:
  explicit LogReader(std::unique_ptr<ByteSource> source)
      : source_(std::move(source)) {}
  // Feeds the next chunk of the file; false at the end of the file.
  absl::StatusOr<bool> ReadChunk();
  absl::Status WithPath(const absl::Status& status) const;

  std::unique_ptr<ByteSource> source_;
  LogDecoder decoder_;
  std::vector<uint8_t> chunk_;  // read buffer, reused
  bool eof_ = false;
};

}  // namespace ft::replay

#endif  // FTVM_REPLAY_LOG_FILE_H_
