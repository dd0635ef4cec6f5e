#include "primary/ft_primary.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/status.h"
#include "logchannel/control_message.h"

namespace ft::primary {

// The recorder's log goes down the channel: each write becomes one or more
// DATA records (the secondary reassembles the byte stream). A send that
// fails loses the secondary; the recorder carries on (the VM must not stop
// because its protection did).
class FtPrimary::Sink : public replay::ByteSink {
 public:
  explicit Sink(FtPrimary* owner) : owner_(owner) {}

  absl::Status Write(std::span<const uint8_t> bytes) override {
    while (!bytes.empty() && !owner_->lost_.load()) {
      const size_t n = std::min(bytes.size(), logchannel::kMaxDataBytes);
      // Where the record ends in the stream is known before its
      // acknowledgement can arrive (numbers run 1, 2, ... from this sink).
      const uint64_t sequence = owner_->last_sent_.load() + 1;
      {
        absl::MutexLock lock(&owner_->ends_mu_);
        owner_->record_ends_.push_back(
            {.sequence = sequence, .end = owner_->log_bytes_.load() + n});
      }
      absl::StatusOr<logchannel::SequenceNumber> seq =
          owner_->channel_->Send(bytes.first(n));
      if (seq.ok() && seq->value() != sequence) {
        seq = absl::InternalError(absl::StrCat("the channel numbered record ",
                                               sequence, " as ", seq->value()));
      }
      if (!seq.ok()) {
        owner_->Lose(
            absl::StrCat("sending the log failed: ", seq.status().message()));
        break;
      }
      owner_->last_sent_.store(sequence);
      owner_->log_bytes_.fetch_add(n);
      owner_->log_sends_.fetch_add(1);
      bytes = bytes.subspan(n);
    }
    return absl::OkStatus();
  }
  absl::Status Close() override { return absl::OkStatus(); }
  std::string Describe() const override {
    return absl::StrCat("log channel to ", owner_->channel_->Describe());
  }

 private:
  FtPrimary* owner_;
};

FtPrimary::FtPrimary(std::unique_ptr<logchannel::Channel> channel,
                     const PrimaryOptions& options)
    : options_(options),
      channel_(std::move(channel)),
      hold_(OutputHold::Options{
          .logged_up_to = [this] { return recorder_->logged_bytes(); },
          .metrics = options.metrics}) {
  if (options.metrics != nullptr) {
    resyncs_metric_ = options.metrics->GetCounter(
        "ftvm_resyncs_total",
        "Full checkpoints sent because the secondary diverged and asked for "
        "a resync.");
  }
}

void FtPrimary::set_kick(std::function<void()> kick) {
  absl::MutexLock lock(&mu_);
  kick_ = std::move(kick);
}

void FtPrimary::HandleRequest(const logchannel::ReceivedData& data) {
  if (channel_->version() < logchannel::kControlMessagesSince) {
    // Before version 4 the secondary sends no data: this peer is broken.
    Lose(absl::StrCat("it sent a request, which log channel protocol ",
                      channel_->version(), " does not have"));
    return;
  }
  absl::StatusOr<logchannel::ControlMessage> message =
      logchannel::DecodeControlMessage(data.payload);
  if (!message.ok()) {
    Lose(absl::StrCat("it sent a malformed request: ",
                      message.status().message()));
    return;
  }
  const auto& resync = std::get<logchannel::ResyncRequest>(*message);
  FT_LOG(kError) << "FT: the secondary diverged at position " << resync.position
                 << " (" << absl::CHexEscape(resync.reason)
                 << "); sending it the whole machine (a resync)";
  resyncs_.fetch_add(1);
  if (resyncs_metric_ != nullptr) resyncs_metric_->Increment();
  recorder_->RequestFullCheckpoint();
  {
    // Under the lock: set_kick(nullptr) returning means no kick runs.
    absl::MutexLock lock(&mu_);
    if (kick_) kick_();
  }
  if (absl::Status s = channel_->Ack(data.sequence); !s.ok()) {
    Lose(std::string(s.message()));
  }
}

void FtPrimary::Acknowledged(uint64_t sequence) {
  uint64_t end = 0;
  {
    absl::MutexLock lock(&ends_mu_);
    while (!record_ends_.empty() && record_ends_.front().sequence <= sequence) {
      end = record_ends_.front().end;
      record_ends_.pop_front();
    }
  }
  if (end != 0) hold_.Acknowledged(end);
}

absl::StatusOr<std::unique_ptr<FtPrimary>> FtPrimary::Connect(
    logchannel::Connector& connector, const replay::LogHeader& header,
    const PrimaryOptions& options) {
  absl::StatusOr<std::unique_ptr<logchannel::Transport>> transport =
      connector.Connect(absl::Now() + options.connect_timeout);
  if (!transport.ok()) {
    return Annotate(
        transport.status(),
        absl::StrCat("connecting to the secondary at ", connector.Describe()));
  }
  return Start(std::move(*transport), header, options);
}

absl::StatusOr<std::unique_ptr<FtPrimary>> FtPrimary::Start(
    std::unique_ptr<logchannel::Transport> transport,
    const replay::LogHeader& header, const PrimaryOptions& options) {
  logchannel::ChannelOptions co{
      .role = logchannel::Role::kPrimary,
      .shared_secret = options.shared_secret,
      .security = options.security,
      .versions = options.protocol_versions,
      .send_buffer_bytes = options.send_buffer_bytes,
      .heartbeat_interval = options.heartbeat_interval,
      .metrics = options.metrics,
      .name = "primary",
  };
  // on_ack runs on the channel's reader thread, possibly before this
  // function returns: it finds the primary through a holder that lives as
  // long as the channel, set before the first DATA record (the header).
  auto holder = std::make_shared<std::atomic<FtPrimary*>>(nullptr);
  co.on_ack = [holder](logchannel::SequenceNumber seq) {
    if (FtPrimary* self = holder->load()) self->Acknowledged(seq.value());
  };
  // Heartbeats carry the guest's position, so that the secondary knows its
  // lag in positions; the same way, 0 until the recorder exists (the
  // channel is closed before the recorder goes: see the destructor).
  auto recorder_holder =
      std::make_shared<std::atomic<const replay::Recorder*>>(nullptr);
  co.heartbeat_progress = [recorder_holder]() -> uint64_t {
    const replay::Recorder* r = recorder_holder->load();
    return r != nullptr ? r->position() : 0;
  };
  FT_ASSIGN_OR_RETURN(std::unique_ptr<logchannel::Channel> channel,
                      logchannel::Channel::Open(std::move(transport), co));
  std::unique_ptr<FtPrimary> p(new FtPrimary(std::move(channel), options));
  holder->store(p.get());
  FT_ASSIGN_OR_RETURN(
      p->recorder_,
      replay::Recorder::Create(std::make_unique<Sink>(p.get()), {}, header,
                               {.digest_interval = options.digest_interval,
                                .flush_promptly = true,
                                .max_flush_delay = options.max_flush_delay}));
  recorder_holder->store(p->recorder_.get());
  if (p->lost_.load()) {
    return absl::UnavailableError(
        absl::StrCat("the secondary at ", p->channel_->Describe(),
                     " went away during start-up: ", p->stats().lost_reason));
  }
  p->watchdog_ = std::thread([raw = p.get()] { raw->Watch(); });
  return p;
}

FtPrimary::~FtPrimary() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (watchdog_.joinable()) watchdog_.join();
  hold_.Stop();
  // The channel first: its heartbeats read the recorder's position.
  channel_.reset();
  recorder_.reset();
}

void FtPrimary::Lose(const std::string& why) {
  if (lost_.exchange(true)) return;
  {
    absl::MutexLock lock(&mu_);
    lost_reason_ = why;
  }
  FT_LOG(kError) << "FT: lost the secondary (" << why
                 << "); the VM keeps running UNPROTECTED";
  hold_.Unprotect();
  channel_->Close(absl::StrCat("primary gave up on the secondary: ", why));
}

void FtPrimary::Watch() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    // Once lost, there is nothing left to watch.
    if (lost_.load()) return;
    // Waiting for a request doubles as the watchdog's tick.
    absl::StatusOr<logchannel::ReceivedData> data =
        channel_->Receive(absl::Now() + options_.heartbeat_interval);
    if (data.ok()) {
      HandleRequest(*data);
      continue;
    }
    {
      // Finish began while this waited: the channel's end is ours now.
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::Status s = channel_->status();
    if (!s.ok()) {
      Lose(std::string(s.message()));
      return;
    }
    const int64_t silent_ns =
        MonotonicClock().NowNanos() - channel_->last_heard_ns();
    if (silent_ns > absl::ToInt64Nanoseconds(options_.peer_timeout)) {
      Lose(absl::StrCat("nothing heard from it for ",
                        absl::FormatDuration(absl::Nanoseconds(silent_ns))));
    }
  }
}

absl::Status FtPrimary::Finish(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // From here on the channel ends by our choice: not a loss.
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (watchdog_.joinable()) watchdog_.join();
  absl::Status result;
  if (lost_.load()) {
    result = absl::UnavailableError(
        absl::StrCat("the secondary was lost: ", stats().lost_reason));
  } else {
    const uint64_t last = last_sent_.load();
    result = channel_->WaitAcked(logchannel::SequenceNumber(last), deadline);
    if (!result.ok()) {
      result = Annotate(result,
                        "waiting for the secondary to acknowledge "
                        "the end of the log");
    }
  }
  if (!hold_.Drain(deadline) && result.ok()) {
    result = absl::DeadlineExceededError("held outputs did not go out");
  }
  channel_->Close("the primary's run ended");
  return result;
}

FtPrimary::Stats FtPrimary::stats() const {
  Stats s{.log_bytes = log_bytes_.load(),
          .log_sends = log_sends_.load(),
          .acked_bytes = hold_.acked(),
          .channel = channel_->stats(),
          .outputs = hold_.stats(),
          .protected_now = !lost_.load(),
          .resyncs = resyncs_.load()};
  absl::MutexLock lock(&mu_);
  s.lost_reason = lost_reason_;
  return s;
}

}  // namespace ft::primary
