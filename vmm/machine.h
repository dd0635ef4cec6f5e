// Machine: one guest assembled from the KVM core, guest memory, the I/O bus,
// the devices and a PVH-booted kernel, run until it powers off.
//
// Interrupts never come from KVM on its own: there is no in-kernel irqchip.
// Devices raise lines on the user-space PIC (Pic8259) and before every entry
// the vCPU thread delivers queued asynchronous events and, if the PIC has a
// request and the guest can take it, injects it with KVM_INTERRUPT (else it
// asks KVM for an interrupt-window exit). So every interrupt reaches the
// guest while its vCPU is stopped in the VMM, where record/replay can log it.
//
// HLT: with IF=1 and some PIC input unmasked, the vCPU thread sleeps
// (VcpuThread kHalted) until an asynchronous event is posted, then delivers
// it; if that raised an interrupt it re-enters the guest, which takes the
// interrupt and goes on after its HLT, else it sleeps on (the guest must not
// see its HLT end without an interrupt). Stop() and Pause() wake a halted vCPU
// through the VcpuThread's own state machine. HLT with IF=0, or with every PIC
// input masked, can never end (ftvm raises no NMIs), so the machine ends with
// kHalted: a stuck guest is reported instead of idling forever. A halted guest
// with interrupts enabled and no timer armed waits for back-ends, or for
// Stop().
//
// Thread ownership: Create() and Run() belong to one controlling thread;
// Stop(), Pause() and Resume() may be called from any thread (e.g. a
// signal-forwarding thread). Exits are handled and devices run on the vCPU
// thread; back-end callbacks and timers run on the event-loop thread.
#ifndef FTVM_VMM_MACHINE_H_
#define FTVM_VMM_MACHINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "vmm/config/device_spec.h"
#include "vmm/devices/cmos_rtc.h"
#include "vmm/devices/debug_exit.h"
#include "vmm/devices/irq_line.h"
#include "vmm/devices/pic_8259.h"
#include "vmm/devices/pit_8254.h"
#include "vmm/devices/serial_16550.h"
#include "vmm/events/async_event.h"
#include "vmm/events/event_loop.h"
#include "vmm/execution_hooks.h"
#include "vmm/io/io_bus.h"
#include "vmm/kvm/kvm_system.h"
#include "vmm/kvm/vcpu_state.h"
#include "vmm/kvm/vm.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/output_gate.h"
#include "vmm/vcpu_thread.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/net_backend.h"
#include "vmm/virtio/virtio_net.h"

namespace ft::vmm {

struct MachineOptions {
  std::string kernel_path;
  uint64_t memory_bytes = 256ull << 20;
  std::string cmdline;
  uint32_t vcpus = 1;
  // virtio-blk disks, then virtio-net cards, one virtio-mmio window each
  // (QEMU microvm's layout), announced on the kernel command line.
  std::vector<DiskSpec> disks;
  std::vector<NetSpec> nets;
  // Track the pages the guest writes (TakeDirtyPages), for micro-checkpoints
  // and migration.
  bool log_dirty_pages = false;
  // Record/replay (execution_hooks.h): every nondeterministic input passes
  // through `hooks` (must outlive the machine). With `replay`, back ends are
  // inert (no TAP, no disk I/O: `disks` give only sizes and nets only MACs)
  // and events come from the hooks only.
  ExecutionHooks* hooks = nullptr;
  bool replay = false;
  // With hooks: packets and disk requests pass through this gate (the FT
  // primary's Output Rule) after the hooks' OnOutput. Must outlive the
  // machine's run, and release nothing once the machine is destroyed.
  OutputGate* output_gate = nullptr;
  // Recording: how long a posted event may wait for the guest to exit by
  // itself before the vCPU is kicked out (and a micro-checkpoint taken).
  absl::Duration latency_bound = absl::Milliseconds(2);
  // Replay: the sizes of the disks (the images need not exist).
  std::vector<uint64_t> replay_disk_bytes;
  // Receives the guest's serial output in whole lines (and any unterminated
  // tail when the machine stops). Default: written to standard output.
  std::function<void(std::string_view)> console;
};

struct MachineResult {
  // The same values as FinishReason (execution_hooks.h).
  enum class Reason {
    kPowerOff = 0,  // the guest wrote its exit code to the debug-exit port
    kShutdown = 1,  // triple fault: the guest is dead
    kHalted = 2,    // HLT with IF=0 or every PIC input masked
    kStopped = 3,   // Stop() was called
    kFailed = 4,    // KVM refused to run the vCPU, or a replay diverged
  };
  Reason reason = Reason::kStopped;
  uint32_t exit_code = 0;  // meaningful for kPowerOff
  std::string detail;      // what happened, with the vCPU registers if dead
};
const char* MachineReasonName(MachineResult::Reason reason);

class Machine : public VcpuExitHandler, private ExecutionContext {
 public:
  static absl::StatusOr<std::unique_ptr<Machine>> Create(
      const KvmSystem& kvm, MachineOptions options);
  ~Machine() override;

  // Runs the guest until it powers off, dies or Stop() is called. Once only.
  absl::StatusOr<MachineResult> Run();
  void Stop();
  // Brings the vCPU out of the guest (or out of its halt) to BeforeEntry
  // soon, without it being a position: for hooks that have work to do
  // there (a full checkpoint asked for by the secondary). Any thread.
  void Kick();
  // Holds every vCPU outside KVM_RUN (returns once they are), and lets them
  // go again. For use while Run() is in progress, from another thread.
  void Pause();
  void Resume();

  const GuestMemory& memory() const override { return memory_; }
  IoBus::Stats bus_stats() const { return bus_.stats(); }
  VcpuThread::Stats vcpu_stats() const;
  // Interrupts injected into the guest so far.
  uint64_t interrupts_injected() const { return interrupts_injected_.load(); }
  // Interrupts that waited for the next position (record/replay only).
  uint64_t interrupts_deferred() const { return interrupts_deferred_.load(); }
  // KVM's own statistics of the vCPUs (KVM_GET_STATS_FD), summed: every
  // exit, including those KVM handles without returning to ftvm.
  absl::StatusOr<std::map<std::string, uint64_t>> kvm_vcpu_stats() const;
  // The vCPU's whole state, and setting it (vcpu_state.h). Only while the
  // machine is paused (Pause) or not yet running.
  absl::StatusOr<VcpuSnapshot> SaveVcpu(uint32_t index);
  absl::Status RestoreVcpu(uint32_t index, const VcpuSnapshot& snapshot);
  // Guest frame numbers written by the guest since the previous call (see
  // Vm::TakeDirtyPages); needs log_dirty_pages. Exact only while paused.
  absl::StatusOr<std::vector<uint64_t>> TakeDirtyPages() override {
    return vm_->TakeDirtyPages();
  }
  // The network cards' counters, in --net order.
  std::vector<VirtioNet::Stats> net_stats() const;
  // Their TAP back ends' counters, in the same order (none when replaying).
  std::vector<TapNetBackend::Stats> tap_stats() const;

  // For wiring more devices between Create() and Run(): the request line of
  // ISA IRQ `irq` (0..15, not 2; 0 is the PIT's, 4 COM1's, 8 the RTC's), the
  // queue that carries back-end events to device models on the vCPU thread
  // (register sinks before Run), the VM's event loop (back-end fds and
  // timers), and the I/O bus.
  IrqLine* irq_line(int irq) { return pic_->line(irq); }
  AsyncEventQueue* async_events() { return &events_; }
  EventLoop* event_loop() { return loop_.get(); }
  IoBus* io_bus() { return &bus_; }

  ExitAction HandleExit(Vcpu& vcpu, const VmExit& exit) override;
  absl::StatusOr<EntryAction> BeforeEntry(Vcpu& vcpu) override;

 private:
  Machine(MachineOptions options, GuestMemory memory);
  absl::Status Build(const KvmSystem& kvm);
  // Creates the virtio-blk and virtio-net devices; returns their
  // command-line tokens.
  absl::StatusOr<std::string> AttachVirtioDevices();
  // Gives `device` the next virtio-mmio window and interrupt line; returns
  // its command-line token.
  absl::StatusOr<std::string> AddVirtioDevice(
      std::unique_ptr<VirtioDevice> device);
  // ExecutionContext, for the hooks (vCPU thread, or after Run's vCPU
  // threads have stopped).
  uint64_t position() const override { return position_; }
  size_t DeliverQueued(
      const std::function<void(const AsyncEvent&)>& observe) override {
    return events_.DeliverPending(observe);
  }
  bool Deliver(const AsyncEvent& event) override {
    return events_.Deliver(event);
  }
  bool HasQueuedEvents() const override { return events_.HasPending(); }
  bool HasDeferredInterrupt() const override {
    return deferred_interrupt_.load(std::memory_order_relaxed);
  }
  uint64_t AdvancePosition() override;
  // Full checkpoints (machine_snapshot.cc).
  absl::StatusOr<DevicesSnapshot> SaveDevices() override;
  absl::Status RestoreDevices(const DevicesSnapshot& snapshot) override;
  // Restores the first `up_to` devices of `snapshot` (already checked to be
  // this machine's list) in order; `done` is how many were.
  absl::Status RestoreEach(const DevicesSnapshot& snapshot, size_t& done,
                           size_t up_to = SIZE_MAX);
  void SetPosition(uint64_t position) override {
    position_ = position;
    at_position_ = true;
  }
  void EndRun(std::string why) override {
    Finish(
        {.reason = MachineResult::Reason::kStopped, .detail = std::move(why)});
  }
  // On the vCPU thread itself (outside KVM_RUN) or after it has exited.
  absl::StatusOr<VcpuSnapshot> SaveVcpu() override {
    return vmm::SaveVcpu(vcpus_[0]->vcpu());
  }
  absl::Status RestoreVcpu(const VcpuSnapshot& snapshot) override;
  ExitPoint ExitPointOf(Vcpu& vcpu, const VmExit& exit);
  // What to do with a pending interrupt at this entry (see PrepareEntry).
  enum class Gate { kInject, kWindow, kDefer };
  // After a guest exit: from kvm_run's flags, asking KVM for its queued
  // events only when the interrupt cannot go in.
  absl::StatusOr<Gate> GateAfterExit(Vcpu& vcpu);
  // After a checkpoint: from the vCPU state itself (IF, interrupt shadow,
  // events in flight), which both sides of a replay share.
  absl::StatusOr<Gate> GateFromState(Vcpu& vcpu);
  // Kicks the vCPU once the input that waits longest has waited the
  // latency bound (`after`: what is left of it for that input).
  void ArmLatencyKick(absl::Duration after);
  // One round of BeforeEntry: events, checkpoints, interrupt injection.
  absl::StatusOr<EntryAction> PrepareEntry(Vcpu& vcpu);
  // vCPU `index` if it is paused or not running, else an error.
  absl::StatusOr<Vcpu*> StoppedVcpu(uint32_t index);
  void Finish(MachineResult result);
  void ConsoleBytes(std::span<const uint8_t> bytes);
  void FlushConsole();
  std::string DescribeVcpu(Vcpu& vcpu);

  MachineOptions options_;
  GuestMemory memory_;
  MonotonicClock clock_;
  SystemRealtimeClock wall_clock_;
  IoBus bus_;
  AsyncEventQueue events_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Vm> vm_;
  std::unique_ptr<Pic8259> pic_;
  std::unique_ptr<Serial16550> serial_;
  std::unique_ptr<DebugExit> debug_exit_;
  std::unique_ptr<Pit8254> pit_;
  std::unique_ptr<CmosRtc> rtc_;
  // Declared after events_ and bus_: destroyed before them.
  std::vector<std::unique_ptr<MmioTransport>> virtio_;
  // Owned by their transports in virtio_; the TAP back ends start reading
  // when Run() starts.
  std::vector<VirtioNet*> nets_;
  std::vector<TapNetBackend*> taps_;
  std::vector<std::unique_ptr<VcpuThread>> vcpus_;
  std::atomic<uint64_t> interrupts_injected_{0};
  std::atomic<uint64_t> interrupts_deferred_{0};
  // The guest executed HLT and has not taken an interrupt since (vCPU
  // thread only).
  bool halted_ = false;
  // Record/replay (vCPU thread only): positions passed, and whether no
  // guest code ran since the last one.
  uint64_t position_ = 0;
  bool at_position_ = true;
  // An interrupt waits for the next position (HasDeferredInterrupt); read
  // by the latency-kick timer.
  std::atomic<bool> deferred_interrupt_{false};
  std::atomic<int64_t> deferred_since_ns_{0};  // since when (Unix ns)
  // The clocks the devices read: the host's, or through the hooks.
  class HookedClock;
  class HookedRealtimeClock;
  std::unique_ptr<Clock> device_clock_;
  std::unique_ptr<RealtimeClock> device_wall_clock_;
  absl::Mutex kick_mu_;
  TimerService::TimerId kick_timer_ ABSL_GUARDED_BY(kick_mu_) = 0;
  std::string console_line_;  // touched only under the bus lock

  absl::Mutex mu_;
  std::optional<MachineResult> result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_MACHINE_H_
