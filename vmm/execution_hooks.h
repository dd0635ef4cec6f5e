// The single choke point between a Machine and the record/replay layer
// (DESIGN.md section 2): every nondeterministic input of the guest passes
// through an ExecutionHooks, which records it on a primary and supplies it
// from the log on a replayer. Device models never know which.
//
// What passes through:
//   - positions: every guest-initiated exit, counted from the start of the
//     run (OnExit, before the exit is handled), and micro-checkpoints;
//   - synchronous inputs: the host clock as device models read it
//     (OnClockRead);
//   - asynchronous events: delivered only in BeforeEntry, at a position.
//     A recorder delivers the queued events and logs each; when the guest
//     was kicked out of KVM_RUN (not at a position) it first takes a
//     micro-checkpoint, which is a position. A replayer delivers the logged
//     events of the current position and applies logged checkpoints instead
//     of running.
//
// Thread ownership: every method runs on the vCPU thread (one vCPU), except
// OnClockRead, which runs wherever a device reads its clock: on the vCPU
// thread during exits and event delivery (the device models' only threads).
#ifndef FTVM_VMM_EXECUTION_HOOKS_H_
#define FTVM_VMM_EXECUTION_HOOKS_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "vmm/events/async_event.h"
#include "vmm/kvm/vcpu_state.h"
#include "vmm/memory/guest_memory.h"

namespace ft::vmm {

// The same values as replay::ExitKind (schema/ftlog.capnp ExitKind).
enum class ExitKind : uint8_t {
  kStart = 0,
  kPio = 1,
  kMmio = 2,
  kHlt = 3,
  kIrqWindow = 4,
  kCheckpoint = 5,
  kShutdown = 6,
};

struct ExitPoint {
  uint64_t position = 0;  // 1 for the first exit of the run
  ExitKind kind = ExitKind::kStart;
  uint64_t address = 0;  // the port, or the guest physical address
  uint64_t rip = 0;
};

enum class HostClock : uint8_t { kMonotonic = 0, kRealtime = 1 };

// The same values as replay::OutputKind.
enum class OutputKind : uint8_t { kNetPacket = 0, kDiskWrite = 1 };

// Why a run ended: MachineResult::Reason's values (machine.cc checks).
enum class FinishReason : int {
  kPowerOff = 0,
  kShutdown = 1,
  kHalted = 2,
  kStopped = 3,
  kFailed = 4,
};

// One device model's state in its own encoding (vmm/snapshot), by name.
struct DeviceState {
  std::string name;
  std::vector<uint8_t> state;
};

// Everything of a machine beyond its vCPUs and memory: what a full
// checkpoint carries.
struct DevicesSnapshot {
  std::vector<DeviceState> devices;  // in the machine's order
  bool halted = false;               // the vCPU waits in HLT
};

// What hooks may do to the machine during BeforeEntry (vCPU thread; the
// vCPU is outside KVM_RUN).
class ExecutionContext {
 public:
  // The current position: the last exit's, or the last checkpoint's.
  virtual uint64_t position() const = 0;
  // Hands every queued event to its device, calling `observe` first for
  // each (a recorder logs it there). Returns how many.
  virtual size_t DeliverQueued(
      const std::function<void(const AsyncEvent&)>& observe) = 0;
  // Hands `event` to its device (a replayer's logged events). False if no
  // device has its source id.
  virtual bool Deliver(const AsyncEvent& event) = 0;
  virtual bool HasQueuedEvents() const = 0;
  // An interrupt waits in the interrupt controller but could not be
  // injected or asked for with a window exit at the last entry (one was
  // already queued in KVM): it goes in at the next position. A recorder
  // that was kicked makes this point one (a micro-checkpoint), so the wait
  // stays within its latency bound.
  virtual bool HasDeferredInterrupt() const = 0;
  // A micro-checkpoint is a position of its own: advances position().
  virtual uint64_t AdvancePosition() = 0;
  virtual absl::StatusOr<VcpuSnapshot> SaveVcpu() = 0;
  virtual absl::Status RestoreVcpu(const VcpuSnapshot& snapshot) = 0;
  // Guest frames written since the previous call (needs the dirty log).
  virtual absl::StatusOr<std::vector<uint64_t>> TakeDirtyPages() = 0;
  virtual const GuestMemory& memory() const = 0;
  // Every device model's state (a full checkpoint).
  virtual absl::StatusOr<DevicesSnapshot> SaveDevices() = 0;
  // Replaces every device model's state; the names must be this machine's,
  // in its order. The states come from a peer: each device checks its own.
  // All or nothing: on error every device keeps the state it had.
  virtual absl::Status RestoreDevices(const DevicesSnapshot& snapshot) = 0;
  // Moves the run to `position` (a replay that starts from a full
  // checkpoint continues the recorded run's count).
  virtual void SetPosition(uint64_t position) = 0;
  // Ends the run here as if stopped by the operator (a replayer whose
  // recording was stopped at this position): the guest is not entered
  // again.
  virtual void EndRun(std::string why) = 0;

 protected:
  ~ExecutionContext() = default;
};

class ExecutionHooks {
 public:
  virtual ~ExecutionHooks() = default;

  // A guest-initiated exit, before the devices handle it. An error (a
  // replay that does not match its log) stops the machine.
  virtual absl::Status OnExit(const ExitPoint& at) = 0;
  // A device model read the host clock, whose value is `live`; returns the
  // value the device must use (a replayer: the logged one). A mismatch is
  // remembered and reported by the next OnExit or BeforeEntry.
  virtual int64_t OnClockRead(HostClock clock, int64_t live) = 0;
  // Before every entry into the guest. `at_position`: no guest code ran
  // since the last exit (else the vCPU was kicked out, or woken from a
  // halt that a pause interrupted). Delivers events (see the header
  // comment). An error stops the machine.
  virtual absl::Status BeforeEntry(ExecutionContext& ctx, bool at_position) = 0;
  // The guest produced an output (a frame handed to NIC `device`, a write
  // submitted to disk `device`), at the current position, on the vCPU
  // thread. A recorder marks it in the log (the FT primary will hold it
  // there until the secondary has the log up to it); a replayer checks it
  // against the log's marker.
  virtual void OnOutput(OutputKind /*kind*/, uint32_t /*device*/,
                        std::span<const uint8_t> /*bytes*/) {}
  // After BeforeEntry and the interrupt decision that follows it: false if
  // the guest must not run now, because the recorded vCPU was kicked out
  // at this very point (a replayer whose next entry is a checkpoint at the
  // next position); BeforeEntry is then called again, not at a position.
  virtual bool EnterGuest(ExecutionContext& /*ctx*/) { return true; }
  // The guest is halted at the current position and nothing is pending:
  // true if the run may wait for more events (a recorder), false if it
  // must end here (a replayer whose log has nothing more for it).
  virtual bool MayWaitWhenHalted() = 0;
  // The machine stopped (its vCPU threads have exited); `exit_code` as in
  // MachineResult.
  virtual void OnFinish(ExecutionContext& ctx, FinishReason reason,
                        uint32_t exit_code) = 0;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_EXECUTION_HOOKS_H_
