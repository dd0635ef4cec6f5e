// Replayer: the ExecutionHooks of a replaying machine (`ftlog replay`). It
// feeds the machine from a log instead of the outside world and checks, at
// every logged position, that the replayed run is where the recorded one
// was:
//   - at each exit that has entries, the exit's kind, address and RIP must
//     match the log's;
//   - each clock read returns the logged value, and must come at the
//     position and from the clock the log says;
//   - every output (a frame sent, a disk write) must match the log's
//     marker at that position: device, length and hash of its bytes;
//   - logged events are delivered at their position; logged checkpoints are
//     applied instead of running (the recorded guest was kicked there);
//   - at each logged state digest, and at the end, the state digest (registers
//   and all
//     of guest memory) must equal the recorded one (at the end also the
//     reason and exit code).
// Any mismatch is a divergence: the machine stops, and divergence() names
// the position and what differed. The replayed machine never runs past the
// last entry it has: if the log ends early, the run stops at its end.
//
// A full checkpoint (the whole machine: a resync point) is a restart: a
// Replayer whose log starts with one (`first`) applies it before the guest
// runs and continues the recorded run's positions from there; one met
// later ends the run (full_checkpoint_next()) once everything before it is
// replayed, and the caller starts a fresh machine from it (TakeRest).
//
// Thread ownership: the vCPU thread (as ExecutionHooks); position() from any
// thread; the other accessors after the machine has stopped.
#ifndef FTVM_REPLAY_REPLAYER_H_
#define FTVM_REPLAY_REPLAYER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "replay/log_file.h"
#include "vmm/execution_hooks.h"

namespace ft::replay {

// Where and how a replay left the recorded run.
struct Divergence {
  LogPosition at;    // the replayed position (or the logged one)
  std::string what;  // e.g. "exit: log has pio 0x40 at rip 0x..., got ..."
  // The log stopped (unreadable, or cut short) rather than the run leaving
  // it: for a live secondary, the primary went away.
  bool log_ended = false;
  std::string ToString() const;
};

class Replayer : public vmm::ExecutionHooks {
 public:
  struct Stats {
    uint64_t positions = 0;  // the last position reached
    uint64_t clock_reads = 0;
    uint64_t events = 0;
    uint64_t checkpoints = 0;
    uint64_t checkpoint_pages = 0;
    uint64_t outputs = 0;  // checked against the log's markers
    uint64_t digests = 0;  // state digests recomputed and compared
    // "replayed N positions: N clock reads, ... checked", as ftlog replay
    // and ftvm secondary print it.
    std::string ToString() const;
    // Adds the counts of a later stretch of the same log (replayed on a
    // fresh machine from a full checkpoint); positions become the later
    // stretch's, where the replay now is.
    void Add(const Stats& later);
  };

  explicit Replayer(LogReader reader,
                    std::optional<LogEntry> first = std::nullopt)
      : reader_(std::move(reader)), next_(std::move(first)) {}

  // What is left of the log after the run: the reader and the entry read
  // ahead, if any (a full checkpoint to restart from, or whatever came
  // after a divergence).
  struct Rest {
    LogReader reader;
    std::optional<LogEntry> next;
  };
  Rest TakeRest() && { return Rest{std::move(reader_), std::move(next_)}; }

  const LogHeader& header() const { return reader_.header(); }

  absl::Status OnExit(const vmm::ExitPoint& at) override;
  int64_t OnClockRead(vmm::HostClock clock, int64_t live) override;
  absl::Status BeforeEntry(vmm::ExecutionContext& ctx,
                           bool at_position) override;
  void OnOutput(vmm::OutputKind kind, uint32_t device,
                std::span<const uint8_t> bytes) override;
  bool EnterGuest(vmm::ExecutionContext& ctx) override;
  bool MayWaitWhenHalted() override { return false; }
  void OnFinish(vmm::ExecutionContext& ctx, vmm::FinishReason reason,
                uint32_t exit_code) override;

  // After the machine stopped: the first divergence, if any; a log that
  // could not be read (truncated, corrupt) is reported here too.
  const std::optional<Divergence>& divergence() const { return divergence_; }
  // The end entry was reached and matched.
  bool completed() const { return completed_; }
  // The run ended because a full checkpoint follows (see the top).
  bool full_checkpoint_next() const { return full_next_; }
  // The run started from a full checkpoint.
  bool started_from_full() const { return started_from_full_; }
  const std::optional<EndEntry>& recorded_end() const { return end_; }
  std::optional<Digest> replayed_digest() const { return digest_; }
  Stats stats() const { return stats_; }
  // The last position reached (Stats::positions), while the machine runs;
  // any thread (the FT secondary's lag).
  uint64_t position() const {
    return position_.load(std::memory_order_relaxed);
  }

 private:
  // The next entry, read ahead; null at the end of the log (or on a read
  // error, which is then a divergence).
  const LogEntry* Peek();
  void Pop() { next_.reset(); }
  absl::Status Diverge(const LogPosition& at, std::string what);
  absl::Status DeliverEventsAt(vmm::ExecutionContext& ctx);
  absl::Status CheckDigestAt(vmm::ExecutionContext& ctx);
  // The next entry is a micro-checkpoint at the position after `position`.
  bool CheckpointNext(uint64_t position);
  // The next entry is a full checkpoint.
  bool FullCheckpointNext();
  absl::Status ApplyCheckpoint(vmm::ExecutionContext& ctx,
                               const MicroCheckpoint& cp);
  void MoveTo(const LogPosition& at);

  LogReader reader_;
  std::optional<LogEntry> next_;
  bool log_done_ = false;
  bool started_ = false;  // the first BeforeEntry has run
  bool started_from_full_ = false;
  bool full_next_ = false;
  LogPosition at_;  // MoveTo
  std::atomic<uint64_t> position_{0};
  std::optional<Divergence> divergence_;
  std::optional<EndEntry> end_;
  std::optional<Digest> digest_;
  bool completed_ = false;
  Stats stats_;
};

}  // namespace ft::replay

#endif  // FTVM_REPLAY_REPLAYER_H_
