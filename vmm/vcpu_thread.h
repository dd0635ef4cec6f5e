// VcpuThread: the thread that runs one vCPU, as an explicit state machine.
//
//   kCreated --Start--> kRunning <--Pause/Resume--> kPaused
//   kRunning/kPaused --RequestExit, handler kStop, or KVM error--> kExited
//
// Other threads never touch the Vcpu while it runs: they ask for a state
// change, and the thread is kicked out of KVM_RUN with a signal whose handler
// sets kvm_run.immediate_exit (a signal alone can be lost if it lands just
// before KVM_RUN; immediate_exit alone is never noticed inside KVM_RUN).
//
// Thread ownership: the public methods are for any other thread; the exit
// handler runs on the vCPU thread.
#ifndef FTVM_VMM_VCPU_THREAD_H_
#define FTVM_VMM_VCPU_THREAD_H_

#include <pthread.h>

#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "vmm/kvm/vcpu.h"

namespace ft::vmm {

enum class VcpuState { kCreated, kRunning, kPaused, kExited };
const char* VcpuStateName(VcpuState state);

enum class ExitAction { kContinue, kStop };

// Decides what each guest-initiated exit means. Called on the vCPU thread.
class VcpuExitHandler {
 public:
  virtual ~VcpuExitHandler() = default;
  virtual ExitAction HandleExit(Vcpu& vcpu, const VmExit& exit) = 0;
};

class VcpuThread {
 public:
  struct Stats {
    uint64_t exits = 0;        // guest-initiated exits handled
    uint64_t interrupted = 0;  // KVM_RUN returns caused by kicks
  };

  // `handler` must outlive the thread.
  VcpuThread(std::unique_ptr<Vcpu> vcpu, VcpuExitHandler* handler);
  // Requests exit and joins.
  ~VcpuThread();
  VcpuThread(const VcpuThread&) = delete;
  VcpuThread& operator=(const VcpuThread&) = delete;

  void Start();
  // Returns once the thread is paused outside KVM_RUN (or has exited).
  void Pause();
  void Resume();
  // Asks the thread to exit; does not wait.
  void RequestExit();
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
  absl::Status exit_status_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  pthread_t native_ ABSL_GUARDED_BY(mu_){};
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VCPU_THREAD_H_
