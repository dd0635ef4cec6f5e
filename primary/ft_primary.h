// FtPrimary: the protected side of an FT pair. It connects to the secondary
// over the log channel (from the dedicated FT address), records the VM with
// a streaming Recorder whose log goes down the channel, and holds every
// output until the secondary has acknowledged the log before it
// (OutputHold). The machine itself is built and run by the caller with
// hooks() and gate().
//
// A secondary that diverged asks for a resync: the recorder logs a full
// checkpoint (the whole machine) at the vCPU's next entry, and the
// secondary restarts its replay from it; the pair stays protected from
// there on.
//
// Losing the secondary (the channel breaks, it gives up on a divergence, or
// it is silent longer than peer_timeout) never stops the VM: held outputs are
// released, the log is no longer sent, and the primary says so loudly and
// runs unprotected.
//
// Thread ownership: created and finished on the main thread; the recorder
// runs on the vCPU thread; a watchdog thread watches the channel.
#ifndef FTVM_PRIMARY_FT_PRIMARY_H_
#define FTVM_PRIMARY_FT_PRIMARY_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "logchannel/channel.h"
#include "logchannel/transport.h"
#include "primary/output_hold.h"
#include "replay/log_entry.h"
#include "replay/recorder.h"

namespace ft::primary {

struct PrimaryOptions {
  std::string shared_secret;
  logchannel::Security security = logchannel::Security::kEncrypted;
  absl::Duration connect_timeout = absl::Seconds(30);
  // Silence from the secondary (no record, not even a heartbeat) for this
  // long counts as losing it.
  absl::Duration peer_timeout = absl::Seconds(3);
  absl::Duration heartbeat_interval = absl::Milliseconds(100);
  uint64_t send_buffer_bytes = uint64_t{64} << 20;
  absl::Duration digest_interval = absl::Seconds(10);
  // At a position, the log goes out if its last flush is older than this
  // (outputs, checkpoints and halts flush at once anyway).
  absl::Duration max_flush_delay = absl::Milliseconds(5);
  metrics::Registry* metrics = nullptr;  // optional
  // Log channel protocol versions offered (tests offer older ones to stand
  // in for an older build).
  std::vector<uint16_t> protocol_versions =
      logchannel::SpokenProtocolVersions();
};

class FtPrimary {
 public:
  struct Stats {
    uint64_t log_bytes = 0;
    uint64_t log_sends = 0;
    uint64_t acked_bytes = 0;  // of the log stream
    logchannel::ChannelStats channel;
    OutputHold::Stats outputs;
    bool protected_now = false;
    uint64_t resyncs = 0;  // full checkpoints sent on the secondary's request
    std::string lost_reason;  // why it runs unprotected, if it does
  };

  // Connects with `connector`, runs the handshake, and sends `header`
  // (the log's first frame). Errors name the peer and what failed.
  static absl::StatusOr<std::unique_ptr<FtPrimary>> Connect(
      logchannel::Connector& connector, const replay::LogHeader& header,
      const PrimaryOptions& options);
  // The same over an established transport (tests: in-process).
  static absl::StatusOr<std::unique_ptr<FtPrimary>> Start(
      std::unique_ptr<logchannel::Transport> transport,
      const replay::LogHeader& header, const PrimaryOptions& options);
  ~FtPrimary();

  vmm::ExecutionHooks* hooks() { return recorder_.get(); }
  // How to bring the vCPU to its next entry soon (Machine::Kick), for a
  // resync; set before the machine runs, and reset (nullptr) before it is
  // destroyed. Without it the full checkpoint waits for the guest's next
  // exit.
  void set_kick(std::function<void()> kick);
  vmm::OutputGate* gate() { return &hold_; }
  replay::Recorder& recorder() { return *recorder_; }

  // After the machine stopped (its End entry is logged): waits up to
  // `timeout` for the secondary to acknowledge the whole log and for held
  // outputs to go out, then closes the channel. OK if the secondary has
  // the whole log; else why not.
  absl::Status Finish(absl::Duration timeout);

  bool is_protected() const { return !lost_.load(); }
  // How much of the log stream (bytes) the secondary acknowledged.
  uint64_t acked_bytes() const { return hold_.acked(); }
  Stats stats() const;
  std::string PeerDescription() const { return channel_->Describe(); }

 private:
  class Sink;
  FtPrimary(std::unique_ptr<logchannel::Channel> channel,
            const PrimaryOptions& options);
  // The secondary is gone: release outputs, stop sending, say so once.
  void Lose(const std::string& why);
  // Watches the channel and takes the secondary's requests (watchdog
  // thread).
  void Watch();
  void HandleRequest(const logchannel::ReceivedData& data);
  // The channel's acknowledgement of record `sequence`, on its reader
  // thread: the held outputs whose log it covers go out.
  void Acknowledged(uint64_t sequence);

  const PrimaryOptions options_;
  std::unique_ptr<logchannel::Channel> channel_;
  OutputHold hold_;
  std::unique_ptr<replay::Recorder> recorder_;
  std::atomic<bool> lost_{false};
  std::atomic<uint64_t> last_sent_{0};
  std::atomic<uint64_t> log_bytes_{0};
  std::atomic<uint64_t> log_sends_{0};
  std::atomic<uint64_t> resyncs_{0};
  metrics::Counter* resyncs_metric_ = nullptr;
  // Where each unacknowledged record ends in the log stream.
  struct RecordEnd {
    uint64_t sequence = 0;
    uint64_t end = 0;
  };
  absl::Mutex ends_mu_;
  std::deque<RecordEnd> record_ends_ ABSL_GUARDED_BY(ends_mu_);
  mutable absl::Mutex mu_;
  std::string lost_reason_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void()> kick_ ABSL_GUARDED_BY(mu_);
  std::thread watchdog_;
};

}  // namespace ft::primary

#endif  // FTVM_PRIMARY_FT_PRIMARY_H_
