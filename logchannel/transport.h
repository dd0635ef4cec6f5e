// The byte stream under a log channel, and how one is established.
//
// A Transport is a reliable, ordered, full-duplex byte stream to one peer:
// TCP on the FT network (tcp_transport.h), RDMA (rdma_transport.h) or an
// in-process pair for tests (inproc_transport.h). It knows nothing of records,
// sequence numbers or keys; the Channel (channel.h) builds those on top.
//
// A Listener waits for a peer (the secondary listens); a Connector reaches
// one (the primary connects). Both hand over a connected Transport.
//
// Thread ownership: a Transport is used by at most one reading thread and one
// writing thread at a time (the Channel's reader, and whichever thread holds
// its write role);
// Shutdown and Describe may be called from any thread.
#ifndef FTVM_LOGCHANNEL_TRANSPORT_H_
#define FTVM_LOGCHANNEL_TRANSPORT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ft::logchannel {

class Transport {
 public:
  virtual ~Transport() = default;

  // Writes all of `bytes`, blocking while the transport has no room. Errors:
  // Unavailable when the peer is gone, Cancelled after Shutdown.
  virtual absl::Status Write(std::span<const uint8_t> bytes) = 0;

  // Writes what the transport takes at once, without blocking: how many
  // bytes of `bytes` (possibly 0; the caller writes the rest later, first).
  // Errors as Write's. The default takes nothing, leaving every write to
  // Write.
  virtual absl::StatusOr<size_t> TryWrite(std::span<const uint8_t> /*bytes*/) {
    return 0;
  }

  // Reads between 1 and buf.size() bytes (buf must not be empty), blocking
  // until some arrive or `deadline` passes (absl::InfiniteFuture() blocks
  // without limit). Returns 0 at a clean end of stream (the peer shut down
  // its writing side). Errors: DeadlineExceeded, Unavailable when the
  // connection broke, Cancelled after Shutdown.
  virtual absl::StatusOr<size_t> Read(std::span<uint8_t> buf,
                                      absl::Time deadline) = 0;

  // Ends our writing direction after what was written: the peer reads the
  // end of the stream. Reading goes on. Idempotent.
  virtual void ShutdownWrite() = 0;

  // Ends both directions now and wakes a Read or Write blocked in another
  // thread. Idempotent; any thread.
  virtual void Shutdown() = 0;

  // For error messages: "tcp 10.0.0.1:4000 -> 10.0.0.2:7000".
  virtual std::string Describe() const = 0;
};

// Reads exactly buf.size() bytes. OutOfRange if the stream ends first (with
// how much arrived), or Read's error.
absl::Status ReadExact(Transport& transport, std::span<uint8_t> buf,
                       absl::Time deadline);

// For implementations: milliseconds to pass poll(2) to wait until
// `deadline`, rounded up; -1 for absl::InfiniteFuture(), 0 once it passed.
int PollTimeoutMs(absl::Time deadline);

class Listener {
 public:
  virtual ~Listener() = default;
  // The next peer that connects; DeadlineExceeded if none by `deadline`.
  virtual absl::StatusOr<std::unique_ptr<Transport>> Accept(
      absl::Time deadline) = 0;
  virtual std::string Describe() const = 0;
};

class Connector {
 public:
  virtual ~Connector() = default;
  // A transport to the configured peer, connected by `deadline`.
  virtual absl::StatusOr<std::unique_ptr<Transport>> Connect(
      absl::Time deadline) = 0;
  virtual std::string Describe() const = 0;
};

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_TRANSPORT_H_
