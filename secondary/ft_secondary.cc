#include "secondary/ft_secondary.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status.h"
#include "logchannel/control_message.h"
#include "replay/log_file.h"
#include "replay/run_config.h"

namespace ft::secondary {

// The replayer's view of the channel: a byte stream that blocks until the
// primary has sent more. Its end is the channel's end.
class FtSecondary::Source : public replay::ByteSource {
 public:
  explicit Source(FtSecondary* owner) : owner_(owner) {}

  absl::StatusOr<size_t> Read(std::span<uint8_t> buf) override {
    FtSecondary& o = *owner_;
    absl::MutexLock lock(&o.mu_);
    auto ready = [&o]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(o.mu_) {
      return !o.chunks_.empty() || o.ended_;
    };
    o.mu_.Await(absl::Condition(&ready));
    if (o.chunks_.empty()) {
      if (o.end_status_.ok()) return 0;
      return o.end_status_;
    }
    Chunk& c = o.chunks_.front();
    const absl::Duration lag = absl::Now() - c.received;
    o.max_lag_ = std::max(o.max_lag_, lag);
    if (o.lag_seconds_ != nullptr) {
      o.lag_seconds_->Set(absl::ToDoubleSeconds(lag));
    }
    const size_t n = std::min(buf.size(), c.bytes.size() - c.used);
    std::memcpy(buf.data(), c.bytes.data() + c.used, n);
    c.used += n;
    o.buffered_ -= n;
    if (c.used == c.bytes.size()) o.chunks_.pop_front();
    o.consumed_.fetch_add(n);
    if (o.lag_bytes_ != nullptr) o.lag_bytes_->Set(o.buffered_);
    return n;
  }
  std::string Describe() const override {
    return absl::StrCat("log from the primary at ",
                        owner_->channel_->Describe());
  }

 private:
  FtSecondary* owner_;
};

FtSecondary::FtSecondary(std::unique_ptr<logchannel::Channel> channel,
                         const SecondaryOptions& options)
    : options_(options), channel_(std::move(channel)) {
  if (options_.metrics != nullptr) {
    lag_bytes_ = options_.metrics->GetGauge(
        "ftvm_secondary_lag_bytes",
        "Log the secondary holds (acknowledged) but has not replayed yet.");
    lag_seconds_ = options_.metrics->GetGauge(
        "ftvm_secondary_lag_seconds",
        "How long the log the secondary replays now waited since it "
        "arrived.");
    lag_positions_ = options_.metrics->GetGauge(
        "ftvm_secondary_lag_positions",
        "Positions the primary had reached, per its last heartbeat, that "
        "this secondary has not replayed yet.");
    divergences_ = options_.metrics->GetCounter(
        "ftvm_divergences_total",
        "Replays that left the primary's recorded run.");
  }
  receiver_ = std::thread([this] { Receive(); });
}

absl::StatusOr<std::unique_ptr<FtSecondary>> FtSecondary::Accept(
    logchannel::Listener& listener, const SecondaryOptions& options) {
  absl::StatusOr<std::unique_ptr<logchannel::Transport>> transport =
      listener.Accept(absl::Now() + options.accept_timeout);
  if (!transport.ok()) {
    return Annotate(
        transport.status(),
        absl::StrCat("waiting for the primary on ", listener.Describe()));
  }
  return Start(std::move(*transport), options);
}

absl::StatusOr<std::unique_ptr<FtSecondary>> FtSecondary::Start(
    std::unique_ptr<logchannel::Transport> transport,
    const SecondaryOptions& options) {
  FT_ASSIGN_OR_RETURN(
      std::unique_ptr<logchannel::Channel> channel,
      logchannel::Channel::Open(
          std::move(transport),
          {.role = logchannel::Role::kSecondary,
           .shared_secret = options.shared_secret,
           .security = options.security,
           // The channel may hold twice its window more.
           .receive_window_bytes = std::max<uint64_t>(
               options.max_buffered_bytes / 4, logchannel::kMaxDataBytes),
           // Held in memory is what the primary's outputs
           // wait for: acknowledged by the channel's reader
           // as records arrive. (Acknowledging after the
           // replay would tie output latency to its speed.)
           .ack_on_receipt = true,
           .heartbeat_interval = options.heartbeat_interval,
           .metrics = options.metrics,
           .name = "secondary"}));
  return std::unique_ptr<FtSecondary>(
      new FtSecondary(std::move(channel), options));
}

FtSecondary::~FtSecondary() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  channel_->Close("the secondary stopped");
  if (receiver_.joinable()) receiver_.join();
}

void FtSecondary::SetReplayer(const replay::Replayer* replayer) {
  absl::MutexLock lock(&mu_);
  replayer_ = replayer;
}

void FtSecondary::UpdateLagPositions() {
  const std::optional<logchannel::PeerHeartbeat> hb =
      channel_->last_heartbeat();
  absl::MutexLock lock(&mu_);
  if (!hb.has_value() || replayer_ == nullptr) return;
  // The heartbeat may be older than the replay's position: no lag then.
  const uint64_t primary = hb->heartbeat.progress;
  const uint64_t replayed = replayer_->position();
  const uint64_t lag = primary > replayed ? primary - replayed : 0;
  max_lag_positions_ = std::max(max_lag_positions_, lag);
  if (lag_positions_ != nullptr) {
    lag_positions_->Set(static_cast<double>(lag));
  }
}

void FtSecondary::Receive() {
  // The lag in positions is sampled once per heartbeat interval, also
  // while the receiver waits (for room, or for records).
  absl::Time next_sample = absl::InfinitePast();
  while (true) {
    if (absl::Now() >= next_sample) {
      UpdateLagPositions();
      next_sample = absl::Now() + options_.heartbeat_interval;
    }
    {
      // Too much unreplayed log: stop taking (and acknowledging) records
      // until the replay catches up; the primary's send buffer fills.
      absl::MutexLock lock(&mu_);
      auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || buffered_ < options_.max_buffered_bytes;
      };
      if (!mu_.AwaitWithDeadline(absl::Condition(&room), next_sample)) {
        continue;
      }
      if (stopping_) return;
    }
    absl::StatusOr<logchannel::ReceivedData> data =
        channel_->Receive(next_sample);
    if (!data.ok()) {
      if (absl::IsDeadlineExceeded(data.status())) continue;
      absl::MutexLock lock(&mu_);
      ended_ = true;
      end_status_ = absl::UnavailableError(
          absl::StrCat("the log channel ended: ", data.status().message()));
      return;
    }
    const size_t n = data->payload.size();
    {
      absl::MutexLock lock(&mu_);
      chunks_.push_back(
          Chunk{.bytes = std::move(data->payload), .received = absl::Now()});
      buffered_ += n;
      if (lag_bytes_ != nullptr) lag_bytes_->Set(buffered_);
    }
    received_.fetch_add(n);
  }
}

absl::StatusOr<vmm::MachineResult> FtSecondary::Replay(
    const vmm::KvmSystem& kvm, replay::Replayer& replayer) {
  FT_ASSIGN_OR_RETURN(
      vmm::MachineOptions opts,
      replay::OptionsForReplay(kvm, replayer.header(), options_.kernel_path));
  opts.console = options_.console ? options_.console : [](std::string_view) {};
  opts.hooks = &replayer;
  FT_ASSIGN_OR_RETURN(std::unique_ptr<vmm::Machine> machine,
                      vmm::Machine::Create(kvm, std::move(opts)));
  FT_LOG(kInfo) << "FT: secondary replaying the log of "
                << channel_->Describe();
  return machine->Run();
}

absl::StatusOr<replay::LogEntry> FtSecondary::Resync(
    const replay::Divergence& divergence, replay::Replayer::Rest& rest) {
  const std::string what = divergence.ToString();
  FT_LOG(kError) << "FT: DIVERGENCE: " << what
                 << "; this secondary no longer mirrors the primary and asks "
                    "it for a resync (a full state transfer)";
  if (divergences_ != nullptr) divergences_->Increment();
  absl::StatusOr<logchannel::SequenceNumber> sent =
      channel_->Send(logchannel::EncodeControlMessage(logchannel::ResyncRequest{
          .position = divergence.at.position.value(), .reason = what}));
  if (!sent.ok()) {
    return Annotate(sent.status(), "asking the primary for a resync");
  }
  // Everything the primary logged before it took the full checkpoint
  // belongs to the run this replay left.
  std::optional<replay::LogEntry> next = std::move(rest.next);
  uint64_t skipped = 0;
  while (true) {
    if (!next.has_value()) {
      absl::StatusOr<std::optional<replay::LogEntry>> e = rest.reader.Next();
      if (!e.ok()) {
        return Annotate(e.status(), "waiting for the primary's resync");
      }
      if (!e->has_value()) {
        return absl::UnavailableError(
            "the log ended before the primary sent the resync");
      }
      next = std::move(**e);
    }
    if (const auto* cp = std::get_if<replay::MicroCheckpoint>(&*next);
        cp != nullptr && cp->full) {
      FT_LOG(kWarning) << "FT: resync: the primary's full checkpoint at "
                       << cp->at.ToString() << " (" << cp->pages.size()
                       << " pages, " << cp->devices.size()
                       << " devices) arrived after " << skipped
                       << " skipped entries; replaying from there";
      return std::move(*next);
    }
    if (std::holds_alternative<replay::EndEntry>(*next)) {
      return absl::UnavailableError(
          "the primary's run ended before it sent the resync");
    }
    next.reset();
    ++skipped;
  }
}

absl::StatusOr<SecondaryResult> FtSecondary::Run(const vmm::KvmSystem& kvm) {
  absl::StatusOr<replay::LogReader> reader =
      replay::LogReader::Open(std::make_unique<Source>(this));
  if (!reader.ok()) {
    return Annotate(reader.status(), "the primary's log did not start");
  }
  SecondaryResult result;
  replay::LogReader log = std::move(*reader);
  std::optional<replay::LogEntry> first;
  vmm::MachineResult ran;
  // One replay per machine: the first from the boot, each later one from a
  // full checkpoint (a resync, or one met in the log).
  while (true) {
    replay::Replayer replayer(std::move(log), std::move(first));
    SetReplayer(&replayer);
    absl::StatusOr<vmm::MachineResult> replayed = Replay(kvm, replayer);
    SetReplayer(nullptr);
    FT_ASSIGN_OR_RETURN(ran, std::move(replayed));
    result.replay.Add(replayer.stats());
    result.completed = replayer.completed();
    result.final_digest = replayer.replayed_digest();
    const std::optional<replay::Divergence> divergence = replayer.divergence();
    if (replayer.recorded_end()) {
      result.guest_exit_code = replayer.recorded_end()->exit_code;
    }
    const bool full_next = replayer.full_checkpoint_next();
    replay::Replayer::Rest rest = std::move(replayer).TakeRest();
    if (full_next) {
      log = std::move(rest.reader);
      first = std::move(rest.next);
      continue;
    }
    // The log stopping early (the primary or the channel gone) is not a
    // divergence: the replay stopped at the last position it had.
    if (divergence && divergence->log_ended) {
      result.cut_short = divergence->what;
    } else if (divergence) {
      if (channel_->version() < logchannel::kControlMessagesSince) {
        // It would never answer: say so, and give up as past the resyncs.
        FT_LOG(kError) << "FT: the primary speaks log channel protocol "
                       << channel_->version() << ", older than "
                       << logchannel::kControlMessagesSince
                       << ", and cannot resync this secondary";
        result.divergence = divergence;
      } else if (static_cast<int>(result.resynced.size()) <
                 options_.max_resyncs) {
        absl::StatusOr<replay::LogEntry> full = Resync(*divergence, rest);
        if (full.ok()) {
          log = std::move(rest.reader);
          result.resynced.push_back(*divergence);
          first = std::move(*full);
          continue;
        }
        result.cut_short = std::string(full.status().message());
      } else {
        result.divergence = divergence;
      }
    }
    break;
  }
  result.log_bytes = received_.load();
  {
    absl::MutexLock lock(&mu_);
    result.max_lag = max_lag_;
    result.max_lag_positions = max_lag_positions_;
    if (!result.completed && ended_ && !end_status_.ok()) {
      result.cut_short = std::string(end_status_.message());
    }
  }
  if (result.divergence) {
    // A divergence is the one thing a secondary must never keep quiet
    // about: the primary learns it as the channel's end reason.
    if (divergences_ != nullptr) divergences_->Increment();
    const std::string what = result.divergence->ToString();
    FT_LOG(kError) << "FT: DIVERGENCE: " << what
                   << "; this secondary no longer mirrors the primary, and "
                   << result.resynced.size()
                   << " resyncs did not keep it in step: giving up";
    channel_->Close(absl::StrCat("secondary diverged (", what, ") after ",
                                 result.resynced.size(),
                                 " resyncs: giving up on this guest"));
  } else if (!result.completed && result.cut_short.empty()) {
    result.cut_short = ran.detail;
  }
  return result;
}

}  // namespace ft::secondary
