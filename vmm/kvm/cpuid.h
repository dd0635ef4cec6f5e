// The guest's CPUID, derived from KVM_GET_SUPPORTED_CPUID.
#ifndef FTVM_VMM_KVM_CPUID_H_
#define FTVM_VMM_KVM_CPUID_H_

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace ft::vmm {

// "ftvmftvmftvm" in leaf 0x40000000 (EBX, ECX, EDX).
inline constexpr char kHypervisorSignature[] = "ftvmftvmftvm";

struct CpuidOptions {
  uint32_t vcpu_index = 0;
  uint32_t vcpu_count = 1;
};

// Returns the CPUID table for one vCPU: what KVM supports, with the APIC IDs
// of `options`, the hypervisor bit set, and the hypervisor leaves replaced by
// ftvm's own signature with no features. KVM's paravirtual features
// (kvmclock, steal time, async page faults) are withheld on purpose: they
// write into guest memory behind the VMM's back, which a replayed secondary
// could not reproduce.
std::vector<kvm_cpuid_entry2> BuildGuestCpuid(
    const std::vector<kvm_cpuid_entry2>& supported,
    const CpuidOptions& options);

}  // namespace ft::vmm

#endif  // FTVM_VMM_KVM_CPUID_H_
