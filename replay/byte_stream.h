// Where an execution log's bytes go and come from: a file (`ftvm run
// --record`, `ftlog`), or the log channel to an FT peer (primary/,
// secondary/). LogWriter and LogReader (log_file.h) frame and decode; these
// only move bytes.
//
// Thread ownership: one thread at a time (the recorder's, the replayer's).
#ifndef FTVM_REPLAY_BYTE_STREAM_H_
#define FTVM_REPLAY_BYTE_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace ft::replay {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all of `bytes` (or fails: the log then ends before them, or
  // inside them).
  virtual absl::Status Write(std::span<const uint8_t> bytes) = 0;
  // Makes what was written durable (a file's fdatasync); optional.
  virtual absl::Status Sync() { return absl::OkStatus(); }
  virtual absl::Status Close() = 0;
  // For error messages: "log /tmp/run.ftlog".
  virtual std::string Describe() const = 0;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads 1..buf.size() bytes, blocking until some are there; 0 at the end
  // of the stream.
  virtual absl::StatusOr<size_t> Read(std::span<uint8_t> buf) = 0;
  virtual std::string Describe() const = 0;
};

// A new file (refusing an existing one unless `overwrite`).
absl::StatusOr<std::unique_ptr<ByteSink>> CreateFileSink(
    const std::string& path, bool overwrite);
absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(
    const std::string& path);

}  // namespace ft::replay

#endif  // FTVM_REPLAY_BYTE_STREAM_H_
