// Reads an execution log file entry by entry, like replay::LogReader, and
// also says where each entry is in the file and how many bytes and frames it
// takes there (framing included), for `ftlog dump` and `ftlog stats`.
//
// LogReader does not expose frame sizes, and LogDecoder only its total
// (bytes_decoded): so the scanner feeds a replay::LogDecoder exactly one
// frame at a time, cutting the file at each frame's length field, and
// charges the frames consumed since the previous entry to the entry that
// comes out. The sizes are the real on-disk ones (nothing is re-encoded); a
// checkpoint split across frames is charged all of them. Decoding, checks
// and error messages are the decoder's own, so the scanner accepts and
// refuses exactly what LogReader does.
//
// Thread ownership: one thread at a time.
#ifndef FTVM_TOOLS_FTLOG_LOG_SCANNER_H_
#define FTVM_TOOLS_FTLOG_LOG_SCANNER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "replay/log_decoder.h"
#include "replay/log_entry.h"

namespace ft::ftlog {

struct ScannedEntry {
  replay::LogEntry entry;
  uint64_t offset = 0;  // file offset of the entry's first frame
  uint64_t bytes = 0;   // its frames' bytes, 12-byte frame headers included
  uint64_t frames = 0;  // 1, or more for a checkpoint split across frames
};

class LogScanner {
 public:
  // Opens the file and reads the header frame. Errors name the file: NotFound
  // and friends for open(2), else LogReader's codes (DataLoss for a file
  // that is not a log, OutOfRange for one that ends in its header, ...).
  static absl::StatusOr<LogScanner> Open(const std::string& path);

  LogScanner(LogScanner&&) = default;
  LogScanner& operator=(LogScanner&&) = default;

  const replay::LogHeader& header() const { return decoder_.header(); }
  // The header frame's size in bytes (framing included).
  uint64_t header_bytes() const { return header_bytes_; }

  // The next entry; nullopt at a clean end of the file. Errors (sticky) as
  // LogReader::Next: "log PATH: frame N at byte M: ...".
  absl::StatusOr<std::optional<ScannedEntry>> Next();

  // The end entry was read.
  bool ended() const { return decoder_.ended(); }
  // Entries of unknown skippable kinds passed over, and their bytes (not
  // charged to any entry).
  uint64_t skipped() const { return decoder_.skipped(); }
  uint64_t skipped_bytes() const { return skipped_bytes_; }
  // Bytes of whole frames decoded so far, header included.
  uint64_t bytes_decoded() const { return decoder_.bytes_decoded(); }

 private:
  LogScanner(std::string path, UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}
  // Reads until `bytes` are buffered or the file ends.
  absl::Status Fill(size_t bytes);
  // Feeds the decoder the next frame (or what the file has of it): the
  // number of bytes fed, 0 at the end of the file.
  absl::StatusOr<size_t> FeedFrame();
  absl::Status WithPath(const absl::Status& status) const;

  std::string path_;
  UniqueFd fd_;
  replay::LogDecoder decoder_;
  std::vector<uint8_t> buf_;  // read from the file, not yet fed
  size_t pos_ = 0;            // the first byte of buf_ not yet fed
  bool eof_ = false;
  uint64_t header_bytes_ = 0;
  uint64_t mark_ = 0;            // bytes_decoded() after the previous entry
  uint64_t frames_pending_ = 0;  // frames fed since then
  uint64_t skipped_seen_ = 0;
  uint64_t skipped_bytes_ = 0;
};

}  // namespace ft::ftlog

#endif  // FTVM_TOOLS_FTLOG_LOG_SCANNER_H_
