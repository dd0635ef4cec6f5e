// Channel: one side of an authenticated log channel over a Transport.
//
// Open runs the handshake (handshake.h) and starts two threads: a writer that
// seals records and writes them (DATA in order, ACKs promptly, a HEARTBEAT
// every heartbeat_interval) and a reader that reads, authenticates and checks
// the peer's records (session_codec.h). The channel is symmetric; in ftvm the
// primary Sends the log and the secondary Receives and Acks it.
//
// Sending: Send queues a payload and returns its sequence number (1, 2, ...).
// The send buffer is bounded: DATA payload bytes queued or sent but not yet
// acknowledged may not exceed min(send_buffer_bytes, the peer's receive
// window), except that one record always fits into an empty buffer. When it
// is full, Send blocks (on the primary, the vCPU waits) and the wait is
// counted: stats().backpressure_stalls and the metrics. acked() is the
// cumulative acknowledgement; WaitAcked and on_ack let the primary release
// outputs held until the log before them is acknowledged (the Output Rule).
//
// Receiving: Receive returns the next DATA payload in order; Ack(n) tells the
// peer that everything up to n was processed. The peer may not send more
// than our receive window beyond what we acknowledged, so an unacknowledging
// receiver stalls its sender instead of growing memory. With ack_on_receipt
// the reader acknowledges records as they arrive, while no more than the
// receive window waits for Receive; beyond that, acknowledgements wait for
// Receive to take records (memory stays within twice the window).
//
// Latency: a record or an ACK is written by the thread that produced it
// (Send's caller, or the reader for an ACK on receipt) when no write is in
// progress and little is in flight, so that it does not wait for the writer
// thread to be scheduled; otherwise the writer thread takes it. Either way
// one thread writes at a time, in order.
//
// Ending: a peer that disconnects, sends garbage, fails authentication or
// breaks the protocol (a record out of sequence, an ACK of unsent data, ...)
// ends the channel. status() then holds the reason, and Send, WaitAcked and
// (once the records received before the end are taken) Receive return it.
// When the end is our decision, the peer gets a CLOSE with the reason, so
// both sides report it. Close ends the channel from our side, after writing
// what is queued.
//
// Thread ownership: every method may be called from any thread. on_ack runs
// on the reader thread, heartbeat_progress on the writer thread. Send and Ack
// may write to the transport themselves (a short write: see Latency).
#ifndef FTVM_LOGCHANNEL_CHANNEL_H_
#define FTVM_LOGCHANNEL_CHANNEL_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "logchannel/channel_metrics.h"
#include "logchannel/handshake.h"
#include "logchannel/record.h"
#include "logchannel/session_codec.h"
#include "logchannel/transport.h"

namespace ft::logchannel {

enum class Security {
  kEncrypted,  // the default: payloads encrypted and authenticated
  kPlaintext,  // payloads readable on the wire (still authenticated); both
               // sides must choose it explicitly
};

struct ChannelOptions {
  Role role = Role::kPrimary;
  // Shared by both sides, at least kMinSecretBytes; never sent.
  std::string shared_secret;
  Security security = Security::kEncrypted;
  // Protocol versions offered, each one this build speaks (tests offer
  // fewer).
  std::vector<uint16_t> versions = SpokenProtocolVersions();
  // Unacknowledged DATA payload bytes before Send blocks.
  uint64_t send_buffer_bytes = uint64_t{64} << 20;
  // Unacknowledged DATA payload bytes we accept from the peer.
  uint64_t receive_window_bytes = uint64_t{256} << 20;
  // Acknowledge DATA when it arrives (see Receiving) rather than when the
  // owner calls Ack: for a receiver whose holding the record is what the
  // sender waits for (the FT secondary).
  bool ack_on_receipt = false;
  absl::Duration heartbeat_interval = absl::Milliseconds(100);
  absl::Duration handshake_timeout = absl::Seconds(10);
  // How long Close (and the destructor) wait for queued records and the
  // CLOSE to be written and for the peer to close its side.
  absl::Duration close_timeout = absl::Seconds(2);
  // Called with each new cumulative acknowledgement, in order, on the
  // reader thread, just after acked() advanced: keep it short, and do not
  // call Close from it.
  std::function<void(SequenceNumber)> on_ack;
  // Optional: the `progress` our heartbeats carry (record.h; the FT
  // primary's position), so that the peer can tell how far ahead we are.
  // Called once per heartbeat by the thread that seals it (the writer),
  // without the channel's lock: it must be cheap, thread-safe and never
  // decrease (the peer ends the channel if it does). Unset: 0. A version 2
  // channel does not carry it.
  std::function<uint64_t()> heartbeat_progress;
  // Where the metrics go; nullptr keeps them private to the channel.
  metrics::Registry* metrics = nullptr;
  // The metrics' channel label and the threads' names.
  std::string name = "logchannel";
  // Monotonic time for heartbeats and last_heard_ns(); nullptr: the system's.
  Clock* clock = nullptr;
};

struct ReceivedData {
  SequenceNumber sequence;
  std::vector<uint8_t> payload;
};

struct PeerHeartbeat {
  Heartbeat heartbeat;      // as the peer sent it (its clock, its counters)
  int64_t received_ns = 0;  // our clock
};

struct ChannelStats {
  uint64_t data_records_sent = 0;  // written to the transport
  uint64_t data_records_received = 0;
  uint64_t acks_sent = 0;
  uint64_t acks_received = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t heartbeats_received = 0;
  uint64_t backpressure_stalls = 0;
  absl::Duration backpressure_stall_time;
  uint64_t unacked_bytes = 0;  // ours, queued or sent
};

class Channel {
 public:
  // Runs the handshake on `transport` (blocking, up to handshake_timeout)
  // and starts the channel. Errors as RunHandshake's, InvalidArgument for
  // bad options.
  static absl::StatusOr<std::unique_ptr<Channel>> Open(
      std::unique_ptr<Transport> transport, ChannelOptions options);
  // Close("channel destroyed"), then joins the threads.
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Sending.
  // Queues one DATA record (a copy of `payload`, at most kMaxDataBytes);
  // blocks while the send buffer is full. Its sequence number, or why the
  // channel ended.
  absl::StatusOr<SequenceNumber> Send(std::span<const uint8_t> payload);
  // The highest sequence number Send returned.
  SequenceNumber last_sent() const;
  // The peer's cumulative acknowledgement.
  SequenceNumber acked() const;
  // OK once acked() >= `sequence`; DeadlineExceeded at `deadline`; the
  // channel's status if it ended first. `sequence` must have been sent.
  absl::Status WaitAcked(SequenceNumber sequence, absl::Time deadline);

  // Receiving.
  // The next DATA record in order; DeadlineExceeded if none by `deadline`;
  // the channel's status once it ended and nothing received is left.
  absl::StatusOr<ReceivedData> Receive(absl::Time deadline);
  // Acknowledges everything up to `sequence` (cumulative; at most the last
  // record Receive returned; an older number is a no-op). Sent promptly.
  absl::Status Ack(SequenceNumber sequence);

  // State.
  // OK while the channel runs; afterwards, why it ended.
  absl::Status status() const;
  // When a record from the peer last arrived, in `clock`'s nanoseconds (the
  // failure detector compares it with the heartbeat interval).
  int64_t last_heard_ns() const;
  // The peer's last heartbeat (its progress is 0 on a version 2 channel).
  std::optional<PeerHeartbeat> last_heartbeat() const;
  ChannelStats stats() const;
  uint16_t version() const { return version_; }
  bool encrypted() const { return encrypted_; }
  Role peer_role() const { return peer_role_; }
  std::string Describe() const { return description_; }

  // Ends the channel from our side: Send is refused from now on, queued
  // records and a CLOSE carrying `reason` are written (up to close_timeout),
  // then the transport is shut down and the threads joined. status() becomes
  // Cancelled with the reason unless the channel had already ended.
  // Idempotent; not from on_ack.
  void Close(std::string_view reason = "closed by its owner");

 private:
  struct InFlight {
    SequenceNumber sequence;
    size_t bytes = 0;
    int64_t written_ns = 0;
  };
  struct Unacked {
    SequenceNumber sequence;
    size_t bytes = 0;
  };

  // What one transport write carries, gathered under mu_ by the holder of
  // the write role.
  struct Batch {
    std::optional<SequenceNumber> ack;
    std::vector<DataMessage> data;
    bool heartbeat = false;
    std::optional<CloseNotice> close;
  };

  Channel(std::unique_ptr<Transport> transport, ChannelOptions options,
          HandshakeResult handshake, SessionEncoder encoder,
          SessionDecoder decoder);
  void Start();
  // Moves the due ACK and up to a batch of unsent DATA into `batch`.
  void Gather(Batch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void GatherAck(Batch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void GatherData(Batch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // If the write role is free, the channel runs and there is an ACK or
  // small DATA to write, takes the role and writes them from the calling
  // thread (releasing mu_ meanwhile).
  void WriteInlineIfIdle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteInline(const Batch& batch) ABSL_LOCKS_EXCLUDED(mu_);
  // Seals `batch` into `out` and counts it (the caller holds the role).
  absl::Status Seal(const Batch& batch, std::vector<uint8_t>& out)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Seals `batch` and writes it, blocking (the caller holds the role).
  absl::Status WriteBatch(const Batch& batch, std::vector<uint8_t>& out)
      ABSL_LOCKS_EXCLUDED(mu_);
  // ack_on_receipt: acknowledges what was received while the records
  // waiting for Receive fit in the window.
  void AckReceived() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SetAckRequested(SequenceNumber sequence)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriterLoop();
  void ReaderLoop();
  // Handles one message from the peer; false if it ended the channel.
  bool Handle(SessionMessage message);
  bool HandleData(DataMessage data);
  bool HandleAck(SequenceNumber acked);
  // Ends the channel with `status` unless it ended already. `tell_peer`:
  // the writer sends it in a CLOSE.
  void Fail(absl::Status status, bool tell_peer)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves the reader's arrived_ to received_, for Receive.
  void PublishArrived() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t Now() const { return clock_->NowNanos(); }

  const std::unique_ptr<Transport> transport_;
  const ChannelOptions options_;
  const std::string description_;
  const uint16_t version_;
  const bool encrypted_;
  const Role peer_role_;
  const uint64_t send_capacity_;  // min(send buffer, the peer's window)
  MonotonicClock system_clock_;
  Clock* const clock_;
  std::unique_ptr<metrics::Registry> own_metrics_;  // when none was given
  const ChannelMetrics metrics_;
  SessionEncoder encoder_;  // the holder of the write role
  SessionDecoder decoder_;  // reader thread

  mutable absl::Mutex mu_;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
  std::optional<CloseNotice> close_to_send_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;  // Close called
  std::string close_reason_ ABSL_GUARDED_BY(mu_);
  bool writer_done_ ABSL_GUARDED_BY(mu_) = false;
  bool reader_done_ ABSL_GUARDED_BY(mu_) = false;
  // The write role: one thread at a time seals and writes records.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // A write made inline failed; the writer thread ends the channel with it.
  std::optional<absl::Status> inline_write_error_ ABSL_GUARDED_BY(mu_);
  // What an inline write left for the writer thread (the transport was
  // full); the write role passes with it.
  std::optional<std::vector<uint8_t>> handoff_ ABSL_GUARDED_BY(mu_);
  // Sending side.
  SequenceNumber last_assigned_ ABSL_GUARDED_BY(mu_);
  SequenceNumber last_written_ ABSL_GUARDED_BY(mu_);
  SequenceNumber acked_ ABSL_GUARDED_BY(mu_);
  std::deque<DataMessage> unsent_ ABSL_GUARDED_BY(mu_);
  std::deque<InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t unacked_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // unsent + in flight
  // Receiving side.
  std::deque<DataMessage> received_ ABSL_GUARDED_BY(mu_);
  // DATA of the reader's current read, counted but not yet in received_:
  // handed over after its ACK is written, so that the acknowledgement the
  // peer's outputs wait for does not also wait for Receive's wake-up.
  std::vector<DataMessage> arrived_ ABSL_GUARDED_BY(mu_);
  std::deque<Unacked> unacked_in_ ABSL_GUARDED_BY(mu_);
  uint64_t unacked_in_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  SequenceNumber last_delivered_ ABSL_GUARDED_BY(mu_);
  SequenceNumber last_received_ ABSL_GUARDED_BY(mu_);
  uint64_t received_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // waiting for Receive
  SequenceNumber ack_requested_ ABSL_GUARDED_BY(mu_);
  SequenceNumber ack_written_ ABSL_GUARDED_BY(mu_);
  // Liveness and counters.
  int64_t last_heard_ns_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<PeerHeartbeat> last_heartbeat_ ABSL_GUARDED_BY(mu_);
  ChannelStats stats_ ABSL_GUARDED_BY(mu_);

  std::thread writer_;
  std::thread reader_;
  absl::Mutex close_mu_;  // serialises Close
  bool joined_ ABSL_GUARDED_BY(close_mu_) = false;
};

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_CHANNEL_H_
