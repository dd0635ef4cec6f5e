// FtSecondary: the standby side of an FT pair. It accepts the primary's
// log channel, acknowledges the log as soon as it holds it (the primary's
// held outputs go out on that acknowledgement), and replays it on an
// identical machine with inert back ends: no TAP traffic, no disk writes,
// received frames and disk read data come from the log. It never runs past
// the last position received (the replayer blocks for more log), checks
// every position, output and state digest, and reports its lag (in bytes,
// time and positions).
//
// A divergence is reported loudly and the primary is asked for a resync:
// it logs a full checkpoint (the whole machine), and the secondary, having
// skipped the log up to it, replays on a fresh machine started from it.
// After max_resyncs of them in one run it gives up and ends the channel
// with the divergence as the reason.
//
// Thread ownership: created and run on the main thread; a receiver thread
// takes records off the channel; the replay runs on the vCPU thread.
#ifndef FTVM_SECONDARY_FT_SECONDARY_H_
#define FTVM_SECONDARY_FT_SECONDARY_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "logchannel/channel.h"
#include "logchannel/transport.h"
#include "replay/replayer.h"
#include "vmm/kvm/kvm_system.h"
#include "vmm/machine.h"

namespace ft::secondary {

struct SecondaryOptions {
  std::string shared_secret;
  logchannel::Security security = logchannel::Security::kEncrypted;
  absl::Duration accept_timeout = absl::Minutes(5);
  absl::Duration heartbeat_interval = absl::Milliseconds(100);
  // Log received but not yet replayed, held in memory; past this the
  // secondary stops taking records, and soon stops acknowledging them,
  // which stalls the primary instead of growing without bound (all told at
  // most 1.5 times this, or twice kMaxDataBytes more).
  uint64_t max_buffered_bytes = uint64_t{256} << 20;
  // The guest kernel, if not at the path the primary recorded.
  std::string kernel_path;
  // The replayed guest's serial output (default: dropped).
  std::function<void(std::string_view)> console;
  metrics::Registry* metrics = nullptr;  // optional
  // Resyncs one run may ask for; past that, a divergence ends the channel
  // (a guest that diverges over and over cannot be protected this way).
  int max_resyncs = 3;
};

struct SecondaryResult {
  replay::Replayer::Stats replay;
  // The replay reached the primary's End entry and matched it.
  bool completed = false;
  // The divergence that ended the replay (none if a resync repaired each).
  std::optional<replay::Divergence> divergence;
  // Divergences repaired by a resync, in order.
  std::vector<replay::Divergence> resynced;
  std::optional<replay::Digest> final_digest;
  int32_t guest_exit_code = 0;
  // Why the log stopped before its end (the primary or the channel went
  // away), if it did.
  std::string cut_short;
  uint64_t log_bytes = 0;
  absl::Duration max_lag;  // the longest a received byte waited for replay
  // The most positions the primary was ahead of the replay, as sampled
  // (its heartbeats carry its position; 0 with a version 2 primary).
  uint64_t max_lag_positions = 0;
};

class FtSecondary {
 public:
  // Waits for the primary on `listener` and runs the handshake.
  static absl::StatusOr<std::unique_ptr<FtSecondary>> Accept(
      logchannel::Listener& listener, const SecondaryOptions& options);
  // The same over an established transport (tests: in-process).
  static absl::StatusOr<std::unique_ptr<FtSecondary>> Start(
      std::unique_ptr<logchannel::Transport> transport,
      const SecondaryOptions& options);
  ~FtSecondary();

  // Receives the log header, builds the machine the primary recorded, and
  // replays until the log ends. Errors: the machine could not be built (no
  // KVM, another kernel or CPUID), or the log never started.
  absl::StatusOr<SecondaryResult> Run(const vmm::KvmSystem& kvm);

  // Live figures, any thread.
  uint64_t bytes_received() const { return received_.load(); }
  uint64_t bytes_replayed() const { return consumed_.load(); }
  std::string PeerDescription() const { return channel_->Describe(); }

 private:
  class Source;
  struct Chunk {
    std::vector<uint8_t> bytes;
    size_t used = 0;
    absl::Time received;
  };
  FtSecondary(std::unique_ptr<logchannel::Channel> channel,
              const SecondaryOptions& options);
  void Receive();
  // Builds the machine and replays on it (Run's middle).
  absl::StatusOr<vmm::MachineResult> Replay(const vmm::KvmSystem& kvm,
                                            replay::Replayer& replayer);
  // After a divergence: asks the primary for the whole machine and skips
  // the log up to the full checkpoint it sends. The checkpoint, or why
  // none came.
  absl::StatusOr<replay::LogEntry> Resync(const replay::Divergence& divergence,
                                          replay::Replayer::Rest& rest);
  // The replay whose position the lag compares with; nullptr when none runs.
  void SetReplayer(const replay::Replayer* replayer);
  // Samples the lag in positions: the primary's, per its last heartbeat,
  // less the replayed one.
  void UpdateLagPositions();

  const SecondaryOptions options_;
  std::unique_ptr<logchannel::Channel> channel_;
  mutable absl::Mutex mu_;
  std::deque<Chunk> chunks_ ABSL_GUARDED_BY(mu_);
  uint64_t buffered_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;       // no more will come
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);  // why
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration max_lag_ ABSL_GUARDED_BY(mu_);
  const replay::Replayer* replayer_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t max_lag_positions_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> received_{0}, consumed_{0};
  metrics::Gauge* lag_bytes_ = nullptr;
  metrics::Gauge* lag_seconds_ = nullptr;
  metrics::Gauge* lag_positions_ = nullptr;
  metrics::Counter* divergences_ = nullptr;
  std::thread receiver_;
};

}  // namespace ft::secondary

#endif  // FTVM_SECONDARY_FT_SECONDARY_H_
