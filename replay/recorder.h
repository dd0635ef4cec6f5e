// Recorder: the ExecutionHooks of a recording machine (`ftvm run --record`).
// It passes every input through unchanged and writes the log: clock reads at
// their position, every delivered event at its position, a micro-checkpoint
// (vCPU state plus the pages dirtied since the previous one) whenever the
// vCPU had to be kicked out to deliver events, and at the end the reason,
// the exit code and the final state digest.
//
// Nothing the guest sees changes, except timing: an event waits up to the
// machine's latency bound for an exit of the guest's own.
//
// A log write error is fail-stop: the next exit stops the machine with it.
//
// Thread ownership: the vCPU thread (as ExecutionHooks); stats(),
// logged_bytes() and position() from any.
#ifndef FTVM_REPLAY_RECORDER_H_
#define FTVM_REPLAY_RECORDER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "replay/log_file.h"
#include "vmm/execution_hooks.h"

namespace ft::replay {

class Recorder : public vmm::ExecutionHooks {
 public:
  struct Stats {
    uint64_t clock_reads = 0;
    uint64_t events = 0;
    uint64_t checkpoints = 0;
    uint64_t checkpoint_pages = 0;
    uint64_t outputs = 0;
    uint64_t digests = 0;
    uint64_t log_bytes = 0;
    uint64_t full_checkpoints = 0;  // of them, full (resyncs)
  };

  // `digest_interval`: at the first position of the guest's own after each
  // interval, a state digest (registers and all of guest memory) is
  // logged, which the replayer recomputes and compares: a divergence that
  // changes memory but not the exits shows there, not only at the end.
  // Zero: only the final digest.
  static absl::StatusOr<std::unique_ptr<Recorder>> Create(
      const LogWriter::Options& options, const LogHeader& header,
      absl::Duration digest_interval = absl::ZeroDuration());

  // How a streaming recorder (the FT primary's) pushes the log out.
  struct StreamOptions {
    absl::Duration digest_interval = absl::ZeroDuration();
    // Flush before the guest runs on after an exit that produced outputs
    // (each waits for the log up to its marker, so it must not wait for a
    // batch to fill; one flush covers all of an exit's outputs), after
    // every checkpoint, and when the guest halts.
    bool flush_promptly = false;
    // At a position, flush if the last flush is older than this.
    absl::Duration max_flush_delay = absl::InfiniteDuration();
  };
  static absl::StatusOr<std::unique_ptr<Recorder>> Create(
      std::unique_ptr<ByteSink> sink, const LogWriter::Options& options,
      const LogHeader& header, const StreamOptions& stream);

  absl::Status OnExit(const vmm::ExitPoint& at) override;
  int64_t OnClockRead(vmm::HostClock clock, int64_t live) override;
  absl::Status BeforeEntry(vmm::ExecutionContext& ctx,
                           bool at_position) override;
  void OnOutput(vmm::OutputKind kind, uint32_t device,
                std::span<const uint8_t> bytes) override;
  bool MayWaitWhenHalted() override;
  void OnFinish(vmm::ExecutionContext& ctx, vmm::FinishReason reason,
                uint32_t exit_code) override;

  // Asks for a full checkpoint (the whole machine: a secondary's resync)
  // at the vCPU's next BeforeEntry; the caller brings the vCPU there
  // (Machine::Kick). Any thread.
  void RequestFullCheckpoint() {
    full_requested_.store(true, std::memory_order_relaxed);
  }

  // The log's state after OnFinish: OK, or the first write error.
  absl::Status status() const { return error_; }
  // The log stream's length in bytes, up to the last entry logged (flushed
  // or not); any thread.
  uint64_t logged_bytes() const {
    return log_bytes_.load(std::memory_order_relaxed);
  }
  // The current position (replay/position.h): how far the guest has run;
  // any thread (the FT primary's heartbeats carry it).
  uint64_t position() const {
    return position_.load(std::memory_order_relaxed);
  }
  Stats stats() const;

 private:
  Recorder(LogWriter writer, const StreamOptions& stream)
      : writer_(std::move(writer)),
        digest_interval_(stream.digest_interval),
        flush_promptly_(stream.flush_promptly),
        max_flush_delay_(stream.max_flush_delay) {}
  void Append(const LogEntry& entry);
  void Flush();
  // A micro-checkpoint, or with `full` the whole machine.
  absl::Status TakeCheckpoint(vmm::ExecutionContext& ctx, bool full);
  void MoveTo(const LogPosition& at);

  LogWriter writer_;
  const absl::Duration digest_interval_;
  const bool flush_promptly_;
  const absl::Duration max_flush_delay_;
  absl::Time last_flush_ = absl::Now();
  absl::Time next_digest_ = absl::InfinitePast();
  LogPosition at_;                 // the current position (MoveTo)
  bool output_unflushed_ = false;  // an output marker waits for a flush
  absl::Status error_;
  std::atomic<uint64_t> clock_reads_{0}, events_{0}, checkpoints_{0},
      checkpoint_pages_{0}, outputs_{0}, digests_{0}, log_bytes_{0},
      position_{0}, full_checkpoints_{0};
  std::atomic<bool> full_requested_{false};
};

// The log's end reason for how a machine stopped.
EndReason ToEndReason(vmm::FinishReason reason);

// The log's ExitSignature for a machine's exit point.
LogPosition ToLogPosition(const vmm::ExitPoint& at);

}  // namespace ft::replay

#endif  // FTVM_REPLAY_RECORDER_H_
