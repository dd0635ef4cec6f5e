// OutputHold: the FT primary's Output Rule. Every packet the guest sends
// and every disk write it issues waits here until the secondary has
// acknowledged the log up to (and including) its output marker; only then
// does it reach the TAP or the image. The guest keeps running meanwhile.
// Requests that are not outputs (disk reads and flushes) wait behind the
// earlier outputs of their device, so a read sees the writes before it.
// The log is counted in bytes of the log stream: an output needs the
// stream's length just after its marker, whichever record carries it.
//
// When the secondary is lost, Unprotect releases everything held and lets
// later outputs through at once: the VM keeps running, unprotected.
//
// Thread ownership: Hold on the vCPU thread; Acknowledged from the log
// channel's reader thread; Unprotect and stats from any thread. Releases
// run on whichever of these threads made them due (no extra thread hop on
// the path of a held packet), one releaser at a time so that each device's
// requests leave in order. Stop before the machine is destroyed.
#ifndef FTVM_PRIMARY_OUTPUT_HOLD_H_
#define FTVM_PRIMARY_OUTPUT_HOLD_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "vmm/output_gate.h"

namespace ft::primary {

class OutputHold : public vmm::OutputGate {
 public:
  struct Options {
    // The log stream's length so far, in bytes (called on the vCPU thread
    // right after the output's marker was logged; it may go out later).
    std::function<uint64_t()> logged_up_to;
    metrics::Registry* metrics = nullptr;  // optional
  };
  struct Stats {
    uint64_t outputs_held = 0;    // outputs that waited for an ack
    uint64_t released = 0;        // requests released (outputs or not)
    uint64_t waiting = 0;         // requests held now
    absl::Duration longest_hold;  // the longest an output waited
    absl::Duration total_hold;    // summed over outputs
    bool unprotected = false;
  };

  explicit OutputHold(Options options);
  ~OutputHold() override;  // Stop()
  OutputHold(const OutputHold&) = delete;
  OutputHold& operator=(const OutputHold&) = delete;

  void Hold(uint32_t stream, bool is_output,
            std::function<void()> release) override;
  // The secondary has the first `bytes` of the log stream.
  void Acknowledged(uint64_t bytes);
  // From now on nothing waits for the secondary.
  void Unprotect();
  // Waits for a release in progress, then drops what is still held and
  // releases nothing more (the machine is gone, or going).
  void Stop();
  // Waits (up to `deadline`) until nothing is held. False at the deadline.
  bool Drain(absl::Time deadline);

  Stats stats() const;
  uint64_t acked() const;

 private:
  struct Held {
    uint64_t need = 0;  // 0: waits only for its predecessors
    absl::Time since;
    std::function<void()> release;
  };
  // Runs every release that is due, in order per stream.
  void ReleaseDue() ABSL_LOCKS_EXCLUDED(mu_, release_mu_);

  const Options options_;
  // Held by the one thread releasing (outside mu_, which Hold needs).
  absl::Mutex release_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::map<uint32_t, std::deque<Held>> streams_ ABSL_GUARDED_BY(mu_);
  uint64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
  bool unprotected_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  metrics::Gauge* held_gauge_ = nullptr;
  metrics::Counter* held_counter_ = nullptr;
  metrics::Histogram* hold_seconds_ = nullptr;
};

}  // namespace ft::primary

#endif  // FTVM_PRIMARY_OUTPUT_HOLD_H_
