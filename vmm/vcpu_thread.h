// VcpuThread: the thread that runs one vCPU, as an explicit state machine.
//
//   kCreated --Start--> kRunning <--Pause/Resume--> kPaused
//   kRunning --handler kWaitForWake--> kHalted --Wake--> kRunning
//   kHalted --Pause--> kPaused;  kHalted --RequestExit--> kExited
//   kRunning/kPaused --RequestExit, handler kStop, or KVM error--> kExited
//
// Other threads never touch the Vcpu while it runs: they ask for a state
// change, and the thread is kicked out of KVM_RUN with a signal whose handler
// sets kvm_run.immediate_exit (a signal alone can be lost if it lands just
// before KVM_RUN; immediate_exit alone is never noticed inside KVM_RUN).
//
// Halting: when the guest executes HLT the handler may answer kWaitForWake;
// the thread then sleeps on its own mutex, outside KVM_RUN, until Wake(),
// Pause() or RequestExit(). Wake() is what the owner's asynchronous event
// queue calls after each Post: it kicks a running vCPU out of KVM_RUN (so
// the event is delivered by BeforeEntry promptly) and ends a halt. A Wake()
// between the last BeforeEntry and the halt is remembered, so an event
// posted while the guest is about to halt is never slept through.
//
// Thread ownership: the public methods are for any other thread; the handler
// runs on the vCPU thread.
#ifndef FTVM_VMM_VCPU_THREAD_H_
#define FTVM_VMM_VCPU_THREAD_H_

#include <pthread.h>

#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "vmm/kvm/vcpu.h"

namespace ft::vmm {

enum class VcpuState { kCreated, kRunning, kHalted, kPaused, kExited };
const char* VcpuStateName(VcpuState state);

enum class ExitAction {
  kContinue,
  kStop,
  // The guest halted and can only go on once something happens: sleep until
  // Wake() (or a Pause or exit request), then enter the guest again.
  kWaitForWake,
};

enum class EntryAction {
  kEnter,
  // Do not enter: the guest is halted and what woke the thread did not wake
  // the guest (an event that raised no interrupt). Sleep until the next
  // Wake(), as after kWaitForWake.
  kStayHalted,
};

// Decides what each guest-initiated exit means and prepares each entry.
// Called on the vCPU thread.
class VcpuExitHandler {
 public:
  virtual ~VcpuExitHandler() = default;
  virtual ExitAction HandleExit(Vcpu& vcpu, const VmExit& exit) = 0;
  // Before every KVM_RUN (after every exit, kick or wake): the place to
  // deliver queued events and inject interrupts. An error stops the thread
  // as a KVM_RUN failure does.
  virtual absl::StatusOr<EntryAction> BeforeEntry(Vcpu& /*vcpu*/) {
    return EntryAction::kEnter;
  }
};

class VcpuThread {
 public:
  struct Stats {
    uint64_t exits = 0;        // guest-initiated exits handled
    uint64_t interrupted = 0;  // KVM_RUN returns caused by kicks
    uint64_t halts = 0;        // kWaitForWake sleeps
  };

  // `handler` must outlive the thread.
  VcpuThread(std::unique_ptr<Vcpu> vcpu, VcpuExitHandler* handler);
  // Requests exit and joins.
  ~VcpuThread();
  VcpuThread(const VcpuThread&) = delete;
  VcpuThread& operator=(const VcpuThread&) = delete;

  void Start();
  // Returns once the thread is paused outside KVM_RUN (or has exited); a
  // halted thread is paused too.
  void Pause();
  void Resume();
  // Asks the thread to exit; does not wait.
  void RequestExit();
  // Ends a halt, or (with `kick`) kicks the running vCPU out of KVM_RUN so
  // that BeforeEntry runs soon. Without `kick` a running vCPU sees the wake
  // at its next exit of its own (a recorder waits for that, up to its
  // latency bound, then calls KickIfWokenBefore). Cheap when the thread is
  // paused.
  void Wake(bool kick = true);
  // Kicks the running vCPU out of KVM_RUN, woken or not (an interrupt that
  // waits for a position needs one even without a Wake()).
  void ForceKick();
  // Kicks the running vCPU if the Wake() not acted on yet came at or before
  // `t` (so what it announced has waited since then). True if it kicked.
  bool KickIfWokenBefore(absl::Time t);
  // When the Wake() not acted on yet came; InfiniteFuture if none waits.
  absl::Time WokenAt() const;
  // Waits for the thread to exit. Returns the KVM error that stopped it, or
  // OK if it stopped because it was asked to or the handler said kStop.
  absl::Status Join();

  VcpuState state() const;
  Stats stats() const;
  // The vCPU, for state access while the thread is kCreated or kPaused.
  Vcpu& vcpu() { return *vcpu_; }

 private:
  enum class Request { kRun, kPause, kExit };
  void Loop();
  void Kick() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<Vcpu> vcpu_;
  VcpuExitHandler* handler_;
  std::thread thread_;

  mutable absl::Mutex mu_;
  VcpuState state_ ABSL_GUARDED_BY(mu_) = VcpuState::kCreated;
  Request request_ ABSL_GUARDED_BY(mu_) = Request::kRun;
  // Set by Wake(); cleared before each BeforeEntry.
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time woken_at_ ABSL_GUARDED_BY(mu_);  // when woken_ was set
  absl::Status exit_status_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  pthread_t native_ ABSL_GUARDED_BY(mu_){};
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VCPU_THREAD_H_
