// VcpuSnapshot: the whole architectural state of one vCPU (no in-kernel
// irqchip: the interrupt controller lives in user space), as KVM reports
// it, for micro-checkpoints, digests and migration.
//
// Restoring into another vCPU of the same kind (same CPUID, a fresh VM in
// this or another process) continues the guest bit-identically (measured:
// PLATFORM.md). The TSC is not part of it: the guest reads the raw host TSC
// here whatever the VMM sets, and a replayable guest never reads it.
//
// Thread ownership: Save/Restore on the vCPU's own thread, or while it is
// paused or not yet started (the ioctls block while it is in KVM_RUN).
#ifndef FTVM_VMM_KVM_VCPU_STATE_H_
#define FTVM_VMM_KVM_VCPU_STATE_H_

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "vmm/kvm/kvm_abi.h"
#include "vmm/kvm/vcpu.h"

namespace ft::vmm {

// The MSRs a snapshot carries beyond those in kvm_sregs (EFER, the segment
// bases): the SYSENTER and SYSCALL set-up, KERNEL_GS_BASE, PAT, TSC_AUX and
// MISC_ENABLE.
const std::vector<uint32_t>& SnapshotMsrIndices();

struct VcpuSnapshot {
  kvm_regs regs{};
  kvm_sregs sregs{};
  kvm_fpu fpu{};
  abi::Xsave xsave{};
  kvm_xcrs xcrs{};
  kvm_vcpu_events events{};
  kvm_debugregs debugregs{};
  kvm_mp_state mp_state{};
  std::vector<kvm_msr_entry> msrs;  // SnapshotMsrIndices(), in that order
};

// Both first complete the last exit's I/O (Vcpu::CompletePendingIo).
absl::StatusOr<VcpuSnapshot> SaveVcpu(Vcpu& vcpu);
// Restores everything, events last (a pending exception or interrupt
// shadow refers to the restored registers).
absl::Status RestoreVcpu(Vcpu& vcpu, const VcpuSnapshot& snapshot);

// A 64-bit digest of the registers that define where the guest is and what
// it computes (general registers, RIP, RFLAGS, control registers, segment
// bases and selectors, EFER, and the FPU/SSE state), stable across save and
// restore. For divergence checks, with the memory digest.
uint64_t RegistersDigest(const VcpuSnapshot& snapshot);

}  // namespace ft::vmm

#endif  // FTVM_VMM_KVM_VCPU_STATE_H_
