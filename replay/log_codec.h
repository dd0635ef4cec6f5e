// Encoding of the execution log's header and entries as frame payloads (Cap'n
// Proto messages of schema/ftlog.capnp). This is the only code that includes
// the generated header; everything else uses the plain structs of
// replay/log_entry.h.
//
// Encoding validates first (replay/log_validate.h), so nothing is written
// that a reader would refuse. Decoding catches every Cap'n Proto exception
// and returns a Status: DataLoss for a malformed message, InvalidArgument for
// a field out of bounds, FailedPrecondition for a log this reader is too old
// for (minReaderVersion, an unknown entry kind that is not skippable, an
// unknown enumerant).
//
// Stateless functions; any thread.
#ifndef FTVM_REPLAY_LOG_CODEC_H_
#define FTVM_REPLAY_LOG_CODEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "replay/log_entry.h"
#include "replay/log_validate.h"

namespace ft::replay {

// What one entry frame holds. A micro-checkpoint is a CheckpointHead (its
// vCPU states and first pages) followed by CheckpointPages frames until
// total_pages have arrived; LogDecoder reassembles it.
struct CheckpointHead {
  MicroCheckpoint checkpoint;  // .pages: the pages in this frame
  uint64_t total_pages = 0;
};
struct CheckpointPages {
  LogPosition at;
  std::vector<DirtyPage> pages;
};
// An entry of a kind this reader does not know, marked skippable by its
// writer: only its position is read.
struct SkippedEntry {
  LogPosition at;
  uint16_t kind = 0;  // the union discriminant
};
using LogRecord =
    std::variant<SyncInput, AsyncEventEntry, CheckpointHead, CheckpointPages,
                 StateDigest, OutputMarker, EndEntry, SkippedEntry>;

// Cap'n Proto reader bounds matching the frame bound: a message is
// traversed at most twice over (no pointer-aliasing amplification), and the
// schema nests no deeper than this.
inline constexpr uint64_t kTraversalFactor = 2;
inline constexpr int kNestingLimit = 16;

struct EncodeOptions {
  // Dirty pages per frame, 1..kMaxPagesPerFrame (smaller values give smaller
  // frames, e.g. to pipeline a large checkpoint over the network).
  size_t pages_per_frame = kMaxPagesPerFrame;
  // Compress each frame's checkpoint pages with zstd (format 2; the header
  // must then ask for reader version 2, as kMinReaderVersion does).
  bool compress_pages = true;
};

absl::StatusOr<std::vector<uint8_t>> EncodeHeader(const LogHeader& header);

// Checks the reader version before anything else, then the bounds.
absl::StatusOr<LogHeader> DecodeHeader(std::span<const uint8_t> payload);

// One payload per frame: one for most entries, several for a checkpoint
// with more than options.pages_per_frame pages.
absl::StatusOr<std::vector<std::vector<uint8_t>>> EncodeEntry(
    const LogEntry& entry, const GuestConfig& guest,
    const EncodeOptions& options = {});

// One entry frame's payload, checked against `guest` (the header's).
absl::StatusOr<LogRecord> DecodeRecord(std::span<const uint8_t> payload,
                                       const GuestConfig& guest);

// The entry a record is on its own: nullopt for a checkpoint head whose
// pages continue in later frames, a continuation, or a skipped entry.
std::optional<LogEntry> RecordToEntry(LogRecord&& record);

// A single-frame entry (anything but a checkpoint that continues in further
// frames, or a skipped kind): for tests and tools.
absl::StatusOr<LogEntry> DecodeEntry(std::span<const uint8_t> payload,
                                     const GuestConfig& guest);

}  // namespace ft::replay

#endif  // FTVM_REPLAY_LOG_CODEC_H_
