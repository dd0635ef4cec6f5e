#include "logchannel/channel.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status.h"

namespace ft::logchannel {
namespace {

// The writer gathers DATA records up to this many payload bytes into one
// transport write, so that many small log entries cost one system call.
constexpr size_t kWriteBatchBytes = 256 * 1024;
constexpr size_t kReadChunkBytes = 256 * 1024;
// A caller seals and writes its record itself only while at most this much
// is unacknowledged (the record included): small, latency-bound records.
// Bulk log (checkpoints, a backlog) is sealed by the writer thread, in
// parallel with the caller (the primary's vCPU).
constexpr uint64_t kInlineWriteBytes = 64 * 1024;
// How long a failed write waits for the reader's account of the end.
constexpr absl::Duration kWriteErrorGrace = absl::Seconds(1);

absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

void NameThread(const std::string& prefix, const std::string& name) {
  // Linux thread names are at most 15 characters.
  const std::string full = (prefix + name).substr(0, 15);
  pthread_setname_np(pthread_self(), full.c_str());
}

absl::Status ValidateOptions(const ChannelOptions& o) {
  if (o.send_buffer_bytes == 0) {
    return absl::InvalidArgumentError("send_buffer_bytes must be positive");
  }
  if (o.heartbeat_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("heartbeat_interval must be positive");
  }
  if (o.handshake_timeout <= absl::ZeroDuration() ||
      o.close_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "handshake_timeout must be positive and close_timeout not negative");
  }
  // Refused before the handshake: a version the session codecs do not
  // speak must not be negotiated.
  for (uint16_t v : o.versions) FT_RETURN_IF_ERROR(CheckSupportedVersion(v));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Channel>> Channel::Open(
    std::unique_ptr<Transport> transport, ChannelOptions options) {
  FT_RETURN_IF_ERROR(ValidateOptions(options));
  HandshakeOptions hs{.role = options.role,
                      .secret = options.shared_secret,
                      .encrypt = options.security == Security::kEncrypted,
                      .versions = options.versions,
                      .receive_window_bytes = options.receive_window_bytes,
                      .deadline = absl::Now() + options.handshake_timeout};
  absl::StatusOr<HandshakeResult> handshake = RunHandshake(*transport, hs);
  if (!handshake.ok()) {
    transport->Shutdown();
    return handshake.status();
  }
  FT_ASSIGN_OR_RETURN(
      SessionEncoder encoder,
      SessionEncoder::Create(handshake->send_key, handshake->encrypted,
                             handshake->version));
  FT_ASSIGN_OR_RETURN(SessionDecoder decoder,
                      SessionDecoder::Create(
                          std::move(handshake->decoder), handshake->receive_key,
                          handshake->encrypted, handshake->version));
  std::unique_ptr<Channel> channel(new Channel(
      std::move(transport), std::move(options), std::move(*handshake),
      std::move(encoder), std::move(decoder)));
  channel->Start();
  return channel;
}

Channel::Channel(std::unique_ptr<Transport> transport, ChannelOptions options,
                 HandshakeResult handshake, SessionEncoder encoder,
                 SessionDecoder decoder)
    : transport_(std::move(transport)),
      options_(std::move(options)),
      description_(
          absl::StrCat(options_.name, " (", transport_->Describe(), ")")),
      version_(handshake.version),
      encrypted_(handshake.encrypted),
      peer_role_(handshake.peer_role),
      send_capacity_(std::min(options_.send_buffer_bytes,
                              handshake.peer_receive_window_bytes)),
      clock_(options_.clock != nullptr ? options_.clock : &system_clock_),
      own_metrics_(options_.metrics != nullptr
                       ? nullptr
                       : std::make_unique<metrics::Registry>()),
      metrics_(ChannelMetrics::Register(
          options_.metrics != nullptr ? *options_.metrics : *own_metrics_,
          options_.name)),
      encoder_(std::move(encoder)),
      decoder_(std::move(decoder)) {
  absl::MutexLock lock(&mu_);
  last_heard_ns_ = Now();
}

void Channel::Start() {
  writer_ = std::thread([this] {
    NameThread("lcw-", options_.name);
    WriterLoop();
  });
  reader_ = std::thread([this] {
    NameThread("lcr-", options_.name);
    ReaderLoop();
  });
}

Channel::~Channel() { Close("the channel was destroyed"); }

void Channel::Fail(absl::Status status, bool tell_peer) {
  if (!status_.ok()) return;
  // What arrived before the end is delivered before it (Receive returns
  // records while there are any, then the status).
  PublishArrived();
  status_ = std::move(status);
  if (tell_peer) {
    close_to_send_ = CloseNotice{.code = status_.code(),
                                 .reason = std::string(status_.message())};
  }
}

absl::StatusOr<SequenceNumber> Channel::Send(std::span<const uint8_t> payload) {
  if (payload.size() > kMaxDataBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("log channel payload of ", payload.size(),
                     " bytes exceeds the bound of ", kMaxDataBytes));
  }
  // Copied before taking the lock: a large copy must not stall the reader.
  DataMessage data{.payload =
                       std::vector<uint8_t>(payload.begin(), payload.end())};
  const size_t size = payload.size();
  absl::MutexLock lock(&mu_);
  auto fits = [this, size]() {
    mu_.AssertReaderHeld();
    return !status_.ok() || closing_ || unacked_bytes_ == 0 ||
           unacked_bytes_ + size <= send_capacity_;
  };
  if (!fits()) {
    // The peer lags: the caller (the primary's vCPU) waits, and that is
    // counted, because it is the cost of fault tolerance the operator sees.
    ++stats_.backpressure_stalls;
    metrics_.backpressure_stalls->Increment();
    const int64_t start = Now();
    mu_.Await(absl::Condition(&fits));
    const absl::Duration waited = absl::Nanoseconds(Now() - start);
    stats_.backpressure_stall_time += waited;
    metrics_.backpressure_stall_seconds->Add(absl::ToDoubleSeconds(waited));
  }
  if (!status_.ok()) return status_;
  if (closing_) {
    return absl::CancelledError(absl::StrCat("log channel ", description_,
                                             " is closing: ", close_reason_));
  }
  data.sequence = SequenceNumber(last_assigned_.value() + 1);
  const SequenceNumber sequence = data.sequence;
  last_assigned_ = data.sequence;
  unacked_bytes_ += size;
  unsent_.push_back(std::move(data));
  metrics_.unacked_bytes->Set(static_cast<double>(unacked_bytes_));
  metrics_.unacked_records->Set(
      static_cast<double>(unsent_.size() + in_flight_.size()));
  WriteInlineIfIdle();
  return sequence;
}

SequenceNumber Channel::last_sent() const {
  absl::MutexLock lock(&mu_);
  return last_assigned_;
}

SequenceNumber Channel::acked() const {
  absl::MutexLock lock(&mu_);
  return acked_;
}

absl::Status Channel::WaitAcked(SequenceNumber sequence, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (sequence > last_assigned_) {
    return absl::InvalidArgumentError(
        absl::StrCat("waiting for the acknowledgement of ", sequence.value(),
                     ", but only ", last_assigned_.value(), " were sent"));
  }
  auto done = [this, sequence]() {
    mu_.AssertReaderHeld();
    return acked_ >= sequence || !status_.ok();
  };
  mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  if (acked_ >= sequence) return absl::OkStatus();
  if (!status_.ok()) return status_;
  return absl::DeadlineExceededError(absl::StrCat(
      description_, ": ", sequence.value(),
      " not acknowledged before the deadline (acknowledged: ", acked_.value(),
      ")"));
}

absl::StatusOr<ReceivedData> Channel::Receive(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() {
    mu_.AssertReaderHeld();
    return !received_.empty() || !status_.ok();
  };
  mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  // Records that arrived before the end are still delivered: they were
  // authenticated and in order.
  if (!received_.empty()) {
    DataMessage d = std::move(received_.front());
    received_.pop_front();
    last_delivered_ = d.sequence;
    received_bytes_ -= d.payload.size();
    if (options_.ack_on_receipt && status_.ok()) {
      // Taking records may bring the rest within the window again.
      AckReceived();
      WriteInlineIfIdle();
    }
    return ReceivedData{.sequence = d.sequence,
                        .payload = std::move(d.payload)};
  }
  if (!status_.ok()) return status_;
  return absl::DeadlineExceededError(
      absl::StrCat(description_, ": no DATA before the deadline"));
}

absl::Status Channel::Ack(SequenceNumber sequence) {
  absl::MutexLock lock(&mu_);
  if (!status_.ok()) return status_;
  if (sequence > last_delivered_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot acknowledge DATA ", sequence.value(),
        ": Receive has returned records up to ", last_delivered_.value()));
  }
  if (sequence <= ack_requested_) return absl::OkStatus();
  SetAckRequested(sequence);
  WriteInlineIfIdle();
  return absl::OkStatus();  // else the writer wakes on ack_requested_
}

void Channel::SetAckRequested(SequenceNumber sequence) {
  ack_requested_ = sequence;
  while (!unacked_in_.empty() && unacked_in_.front().sequence <= sequence) {
    unacked_in_bytes_ -= unacked_in_.front().bytes;
    unacked_in_.pop_front();
  }
}

void Channel::AckReceived() {
  if (last_received_ > ack_requested_ &&
      received_bytes_ <= options_.receive_window_bytes) {
    SetAckRequested(last_received_);
  }
}

void Channel::Gather(Batch& batch) {
  GatherAck(batch);
  GatherData(batch);
}

void Channel::GatherAck(Batch& batch) {
  // Acknowledgements first: the peer's outputs wait for them.
  if (ack_requested_ > ack_written_) {
    batch.ack = ack_requested_;
    ack_written_ = ack_requested_;
  }
}

void Channel::GatherData(Batch& batch) {
  // Recorded as written before the write, so that an ACK racing back is
  // never taken for an acknowledgement of unsent data.
  const int64_t now = Now();
  size_t bytes = 0;
  while (!unsent_.empty() &&
         (batch.data.empty() ||
          bytes + unsent_.front().payload.size() <= kWriteBatchBytes)) {
    DataMessage& d = unsent_.front();
    bytes += d.payload.size();
    in_flight_.push_back(
        {.sequence = d.sequence, .bytes = d.payload.size(), .written_ns = now});
    last_written_ = d.sequence;
    batch.data.push_back(std::move(d));
    unsent_.pop_front();
  }
}

void Channel::WriteInlineIfIdle() {
  if (writing_ || !status_.ok() || closing_ || inline_write_error_) return;
  const bool ack_due = ack_requested_ > ack_written_;
  const bool data_due = !unsent_.empty() && unacked_bytes_ <= kInlineWriteBytes;
  if (!ack_due && !data_due) return;
  writing_ = true;
  Batch batch;
  GatherAck(batch);
  if (data_due) GatherData(batch);
  mu_.Unlock();
  WriteInline(batch);
  mu_.Lock();
}

void Channel::WriteInline(const Batch& batch) {
  std::vector<uint8_t> out;
  absl::Status s = Seal(batch, out);
  absl::StatusOr<size_t> n = s.ok() ? transport_->TryWrite(out) : s;
  absl::MutexLock lock(&mu_);
  if (!n.ok()) {
    // The writer thread ends the channel with it (after the reader's word).
    inline_write_error_ = n.status();
    writing_ = false;
  } else if (*n < out.size()) {
    // The transport is full: the writer thread writes the rest (the role
    // passes to it), so that this caller never blocks on the peer.
    out.erase(out.begin(), out.begin() + static_cast<ptrdiff_t>(*n));
    handoff_ = std::move(out);
  } else {
    writing_ = false;
  }
}

absl::Status Channel::WriteBatch(const Batch& batch,
                                 std::vector<uint8_t>& out) {
  FT_RETURN_IF_ERROR(Seal(batch, out));
  if (out.empty()) return absl::OkStatus();
  return transport_->Write(out);
}

absl::Status Channel::Seal(const Batch& batch, std::vector<uint8_t>& out) {
  out.clear();
  absl::Status s;
  if (batch.ack.has_value()) s = encoder_.AppendAck(*batch.ack, out);
  for (const DataMessage& d : batch.data) {
    if (s.ok()) s = encoder_.AppendData(d.sequence, d.payload, out);
  }
  // After the DATA, so that its counters match what the peer has read.
  if (s.ok() && batch.heartbeat) {
    const uint64_t progress =
        options_.heartbeat_progress ? options_.heartbeat_progress() : 0;
    s = encoder_.AppendHeartbeat(Now(), progress, out);
  }
  if (s.ok() && batch.close.has_value()) {
    s = encoder_.AppendClose(*batch.close, out);
  }
  if (!s.ok() || out.empty()) return s;
  // Counted before the write: the peer's ACK may come back before this
  // thread runs again, and nobody must see an ACK of uncounted data.
  size_t data_bytes = 0;
  for (const DataMessage& d : batch.data) data_bytes += d.payload.size();
  {
    absl::MutexLock lock(&mu_);
    stats_.data_records_sent += batch.data.size();
    stats_.acks_sent += batch.ack.has_value() ? 1 : 0;
    stats_.heartbeats_sent += batch.heartbeat ? 1 : 0;
  }
  metrics_.data_records_sent->Add(static_cast<double>(batch.data.size()));
  metrics_.data_bytes_sent->Add(static_cast<double>(data_bytes));
  metrics_.wire_bytes_sent->Add(static_cast<double>(out.size()));
  if (batch.ack.has_value()) metrics_.acks_sent->Increment();
  if (batch.heartbeat) metrics_.heartbeats_sent->Increment();
  return absl::OkStatus();
}

absl::Status Channel::status() const {
  absl::MutexLock lock(&mu_);
  return status_;
}

int64_t Channel::last_heard_ns() const {
  absl::MutexLock lock(&mu_);
  return last_heard_ns_;
}

std::optional<PeerHeartbeat> Channel::last_heartbeat() const {
  absl::MutexLock lock(&mu_);
  return last_heartbeat_;
}

ChannelStats Channel::stats() const {
  absl::MutexLock lock(&mu_);
  ChannelStats s = stats_;
  s.unacked_bytes = unacked_bytes_;
  return s;
}

void Channel::WriterLoop() {
  std::vector<uint8_t> out;
  // On the monotonic clock: a wall-clock step must not stall heartbeats.
  const int64_t interval_ns =
      absl::ToInt64Nanoseconds(options_.heartbeat_interval);
  int64_t next_heartbeat_ns = Now();  // the peer hears from us at once
  while (true) {
    Batch batch;
    bool stop = false;
    absl::Status s;
    {
      absl::MutexLock lock(&mu_);
      auto work = [this]() {
        mu_.AssertReaderHeld();
        return !status_.ok() || closing_ || inline_write_error_ ||
               handoff_.has_value() ||
               (!writing_ &&
                (!unsent_.empty() || ack_requested_ > ack_written_));
      };
      mu_.AwaitWithTimeout(
          absl::Condition(&work),
          absl::Nanoseconds(std::max<int64_t>(0, next_heartbeat_ns - Now())));
      // An inline write in progress finishes first (one writer at a time),
      // or hands its rest over.
      auto role_free = [this]() {
        mu_.AssertReaderHeld();
        return !writing_ || handoff_.has_value();
      };
      mu_.Await(absl::Condition(&role_free));
      if (handoff_.has_value()) {
        out = std::move(*handoff_);
        handoff_.reset();
        writing_ = true;  // still: it passed to this thread
      } else if (inline_write_error_) {
        s = *inline_write_error_;
      } else if (!status_.ok()) {
        // The channel ended: queued DATA is dropped; the reason goes to the
        // peer if the end is our decision.
        batch.close = std::move(close_to_send_);
        close_to_send_.reset();
        stop = true;
      } else {
        Gather(batch);
        if (Now() >= next_heartbeat_ns) {
          batch.heartbeat = true;
          next_heartbeat_ns = Now() + interval_ns;
        }
        if (closing_ && unsent_.empty()) {
          batch.close = CloseNotice{.code = absl::StatusCode::kCancelled,
                                    .reason = close_reason_};
          stop = true;
        }
      }
      if (s.ok()) writing_ = true;
    }
    if (s.ok()) {
      // A handed-over rest goes first, alone: the loop comes round for more.
      s = out.empty() ? WriteBatch(batch, out) : transport_->Write(out);
      out.clear();
      absl::MutexLock lock(&mu_);
      writing_ = false;
    }
    if (!s.ok()) {
      absl::MutexLock lock(&mu_);
      // A peer that went away usually says more on the reading side (a
      // CLOSE with its reason, a record cut short, the end of its stream),
      // and what it sent before must still be delivered: the reader has a
      // moment to end the channel with that first.
      auto reader_ended = [this]() {
        mu_.AssertReaderHeld();
        return reader_done_ || !status_.ok();
      };
      mu_.AwaitWithDeadline(absl::Condition(&reader_ended),
                            absl::Now() + kWriteErrorGrace);
      Fail(Annotate(s, absl::StrCat("log channel ", description_,
                                    ": writing to the peer")),
           /*tell_peer=*/false);
      break;
    }
    if (stop) break;
  }
  // The peer reads the end of our stream after the last record.
  transport_->ShutdownWrite();
  absl::MutexLock lock(&mu_);
  writer_done_ = true;
}

void Channel::ReaderLoop() {
  std::vector<uint8_t> buf(kReadChunkBytes);
  const std::string peer =
      absl::StrCat("the peer (", transport_->Describe(), ")");
  // Decodes what is buffered; false once the channel ended.
  auto decode = [&]() {
    while (true) {
      absl::StatusOr<std::optional<SessionMessage>> m = decoder_.Next();
      if (!m.ok()) {
        absl::MutexLock lock(&mu_);
        Fail(Annotate(m.status(), absl::StrCat("refused a record from ", peer)),
             /*tell_peer=*/true);
        return false;
      }
      if (!m->has_value()) break;
      if (!Handle(std::move(**m))) return false;
    }
    // One ACK for what this read brought, written here if nobody writes.
    if (!options_.ack_on_receipt) return true;
    absl::MutexLock lock(&mu_);
    if (!status_.ok()) return true;
    AckReceived();
    WriteInlineIfIdle();
    return true;
  };
  // Then what arrived goes to Receive, even if a later record ended the
  // channel: those before it were whole and authenticated.
  auto drain = [&]() {
    const bool more = decode();
    absl::MutexLock lock(&mu_);
    PublishArrived();
    return more;
  };
  // The handshake may have left whole records in the decoder: they come
  // before anything read from now on.
  while (drain()) {
    absl::StatusOr<size_t> n = transport_->Read(buf, absl::InfiniteFuture());
    if (!n.ok()) {
      absl::MutexLock lock(&mu_);
      if (!closing_) {
        Fail(Annotate(n.status(), absl::StrCat("log channel ", description_,
                                               ": reading from the peer")),
             /*tell_peer=*/false);
      }
      break;
    }
    if (*n == 0) {
      // Every whole record was decoded: what is left is a stream cut inside
      // a record (OutOfRange) or a clean end.
      const absl::Status tail = decoder_.Finish();
      absl::MutexLock lock(&mu_);
      if (!tail.ok()) {
        Fail(absl::UnavailableError(
                 absl::StrCat(peer, " disconnected in the middle of a record (",
                              tail.message(), ")")),
             /*tell_peer=*/false);
      } else if (!decoder_.closed() && !closing_) {
        Fail(absl::UnavailableError(absl::StrCat(
                 peer, " disconnected without closing the channel")),
             /*tell_peer=*/false);
      }
      break;
    }
    metrics_.wire_bytes_received->Add(static_cast<double>(*n));
    {
      absl::MutexLock lock(&mu_);
      last_heard_ns_ = Now();
    }
    decoder_.Feed(std::span(buf).first(*n));
  }
  absl::MutexLock lock(&mu_);
  reader_done_ = true;
}

void Channel::PublishArrived() {
  for (DataMessage& d : arrived_) received_.push_back(std::move(d));
  arrived_.clear();
}

bool Channel::Handle(SessionMessage message) {
  if (auto* data = std::get_if<DataMessage>(&message)) {
    return HandleData(std::move(*data));
  }
  if (auto* ack = std::get_if<AckMessage>(&message)) {
    return HandleAck(ack->acked);
  }
  absl::MutexLock lock(&mu_);
  if (auto* hb = std::get_if<Heartbeat>(&message)) {
    last_heartbeat_ = PeerHeartbeat{.heartbeat = *hb, .received_ns = Now()};
    ++stats_.heartbeats_received;
    metrics_.heartbeats_received->Increment();
    return true;
  }
  const CloseNotice& close = std::get<CloseNotice>(message);
  Fail(absl::Status(close.code,
                    absl::StrCat("the peer (", transport_->Describe(),
                                 ") closed the channel: ", close.reason)),
       /*tell_peer=*/false);
  // Reading goes on to the end of the stream, which follows the CLOSE.
  return true;
}

bool Channel::HandleData(DataMessage data) {
  absl::MutexLock lock(&mu_);
  const size_t size = data.payload.size();
  if (unacked_in_bytes_ > 0 &&
      unacked_in_bytes_ + size > options_.receive_window_bytes) {
    Fail(absl::DataLossError(absl::StrCat(
             "the peer (", transport_->Describe(), ") sent DATA ",
             data.sequence.value(), " of ", size, " bytes with ",
             unacked_in_bytes_,
             " bytes unacknowledged: beyond our receive window of ",
             options_.receive_window_bytes, " bytes")),
         /*tell_peer=*/true);
    return false;
  }
  unacked_in_.push_back({.sequence = data.sequence, .bytes = size});
  unacked_in_bytes_ += size;
  last_received_ = data.sequence;
  received_bytes_ += size;
  arrived_.push_back(std::move(data));
  ++stats_.data_records_received;
  metrics_.data_records_received->Increment();
  metrics_.data_bytes_received->Add(static_cast<double>(size));
  return true;
}

bool Channel::HandleAck(SequenceNumber acked) {
  {
    absl::MutexLock lock(&mu_);
    if (acked > last_written_) {
      Fail(absl::DataLossError(absl::StrCat(
               "the peer (", transport_->Describe(), ") acknowledged DATA ",
               acked.value(), ", but only ", last_written_.value(),
               " were sent")),
           /*tell_peer=*/true);
      return false;
    }
    std::optional<int64_t> written_ns;
    while (!in_flight_.empty() && in_flight_.front().sequence <= acked) {
      unacked_bytes_ -= in_flight_.front().bytes;
      written_ns = in_flight_.front().written_ns;
      in_flight_.pop_front();
    }
    if (written_ns.has_value()) {
      metrics_.ack_rtt_seconds->Observe(
          static_cast<double>(Now() - *written_ns) * 1e-9);
    }
    acked_ = acked;
    ++stats_.acks_received;
    metrics_.acks_received->Increment();
    metrics_.unacked_bytes->Set(static_cast<double>(unacked_bytes_));
    metrics_.unacked_records->Set(
        static_cast<double>(unsent_.size() + in_flight_.size()));
  }
  if (options_.on_ack) options_.on_ack(acked);
  return true;
}

void Channel::Close(std::string_view reason) {
  // From on_ack it would join its own thread.
  FT_CHECK(std::this_thread::get_id() != reader_.get_id())
      << "Channel::Close called from the reader thread (on_ack)";
  absl::MutexLock close_lock(&close_mu_);
  if (joined_) return;
  {
    absl::MutexLock lock(&mu_);
    if (status_.ok() && !closing_) {
      closing_ = true;
      close_reason_ = std::string(reason);
    }
    // The writer flushes and sends CLOSE; the peer answers by ending its
    // stream, which ends our reader.
    auto done = [this]() {
      mu_.AssertReaderHeld();
      return writer_done_ && reader_done_;
    };
    mu_.AwaitWithDeadline(absl::Condition(&done),
                          absl::Now() + options_.close_timeout);
    Fail(absl::CancelledError(absl::StrCat("log channel ", description_,
                                           " closed: ", AbslView(reason))),
         /*tell_peer=*/false);
  }
  // Wakes a writer stuck on a peer that does not read, and the reader.
  transport_->Shutdown();
  writer_.join();
  reader_.join();
  joined_ = true;
}

}  // namespace ft::logchannel
