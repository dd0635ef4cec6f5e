// Vcpu: one KVM virtual CPU (the fd from KVM_CREATE_VCPU and its kvm_run
// mapping). Run() enters the guest once and returns the decoded exit.
//
// Thread ownership: after set-up, only the vCPU's own thread (VcpuThread)
// calls into it; other threads reach it by kicking (RequestImmediateExit is
// async-signal-safe) and waiting for the thread to pause.
#ifndef FTVM_VMM_KVM_VCPU_H_
#define FTVM_VMM_KVM_VCPU_H_

#include <linux/kvm.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mapped_region.h"
#include "common/unique_fd.h"
#include "vmm/kvm/kvm_abi.h"
#include "vmm/kvm/vm.h"
#include "vmm/kvm/vm_exit.h"

namespace ft::vmm {

class Vcpu {
 public:
  static absl::StatusOr<std::unique_ptr<Vcpu>> Create(const Vm& vm,
                                                      uint32_t index);

  uint32_t index() const { return index_; }

  // Enters the guest until the next exit. EINTR (a kick) is returned as
  // InterruptedExit, not as an error. Errors are ioctl failures.
  absl::StatusOr<VmExit> Run();

  // Finishes what the last exit left for KVM to complete (the data of a
  // port or MMIO read goes into the guest's registers on the next KVM_RUN)
  // without running the guest: KVM_RUN with immediate_exit set. Needed
  // before the state is saved or replaced.
  absl::Status CompletePendingIo();

  // Makes the current or next KVM_RUN return at once. Safe in a signal
  // handler; cleared by Run() after KVM_RUN returns.
  void RequestImmediateExit() { run_->immediate_exit = 1; }

  // Interrupt injection without an in-kernel irqchip (the VMM's own PIC).
  // The two flags are what KVM reported when the last KVM_RUN returned.
  bool ready_for_interrupt_injection() const {
    return run_->ready_for_interrupt_injection != 0;
  }
  bool interrupt_flag() const { return run_->if_flag != 0; }
  // While set, KVM_RUN returns KVM_EXIT_IRQ_WINDOW_OPEN as soon as the guest
  // can take an interrupt.
  void set_request_interrupt_window(bool on) {
    run_->request_interrupt_window = on ? 1 : 0;
  }
  // Queues external interrupt `vector` for delivery on the next KVM_RUN
  // (KVM_INTERRUPT). Only when ready_for_interrupt_injection().
  absl::Status Interrupt(uint8_t vector);

  absl::StatusOr<kvm_regs> GetRegs() const;
  absl::Status SetRegs(const kvm_regs& regs);
  absl::StatusOr<kvm_sregs> GetSregs() const;
  absl::Status SetSregs(const kvm_sregs& sregs);
  absl::StatusOr<kvm_fpu> GetFpu() const;
  absl::Status SetFpu(const kvm_fpu& fpu);
  absl::Status SetCpuid(const std::vector<kvm_cpuid_entry2>& entries);
  // The rest of the architectural state, for snapshots (vcpu_state.h).
  absl::StatusOr<abi::Xsave> GetXsave() const;
  absl::Status SetXsave(const abi::Xsave& xsave);
  absl::StatusOr<kvm_xcrs> GetXcrs() const;
  absl::Status SetXcrs(const kvm_xcrs& xcrs);
  absl::StatusOr<kvm_vcpu_events> GetEvents() const;
  absl::Status SetEvents(const kvm_vcpu_events& events);
  absl::StatusOr<kvm_debugregs> GetDebugRegs() const;
  absl::Status SetDebugRegs(const kvm_debugregs& regs);
  absl::StatusOr<kvm_mp_state> GetMpState() const;
  absl::Status SetMpState(const kvm_mp_state& state);
  // Reads the MSRs `indices` (all must be readable) / writes `entries`.
  absl::StatusOr<std::vector<kvm_msr_entry>> GetMsrs(
      const std::vector<uint32_t>& indices) const;
  absl::Status SetMsrs(const std::vector<kvm_msr_entry>& entries);

  // The guest RIP at the last exit, from the registers KVM copies into
  // kvm_run on every exit (KVM_CAP_SYNC_REGS): no ioctl. 0 if the kernel
  // lacks the capability (sync_regs() is then false).
  uint64_t exit_rip() const { return sync_regs_ ? run_->s.regs.regs.rip : 0; }
  bool sync_regs() const { return sync_regs_; }

  int fd() const { return fd_.get(); }

 private:
  Vcpu(uint32_t index, UniqueFd fd, MappedRegion run_map, bool sync_regs);
  VmExit Decode();

  uint32_t index_;
  UniqueFd fd_;
  MappedRegion run_map_;
  kvm_run* run_;
  bool sync_regs_;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_KVM_VCPU_H_
