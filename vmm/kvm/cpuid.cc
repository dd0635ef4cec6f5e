#include "vmm/kvm/cpuid.h"

#include <cstring>

namespace ft::vmm {
namespace {

constexpr uint32_t kHypervisorBase = 0x4000'0000;
constexpr uint32_t kHypervisorLast = 0x4000'00ff;
constexpr uint32_t kLeaf1EcxHypervisor = 1u << 31;

uint32_t SignatureWord(int i) {
  uint32_t word;
  std::memcpy(&word, kHypervisorSignature + 4 * i, 4);
  return word;
}

}  // namespace

std::vector<kvm_cpuid_entry2> BuildGuestCpuid(
    const std::vector<kvm_cpuid_entry2>& supported,
    const CpuidOptions& options) {
  std::vector<kvm_cpuid_entry2> out;
  out.reserve(supported.size() + 1);
  for (kvm_cpuid_entry2 e : supported) {
    if (e.function >= kHypervisorBase && e.function <= kHypervisorLast) {
      continue;  // replaced below
    }
    switch (e.function) {
      case 1:
        // EBX[31:24] initial APIC ID, EBX[23:16] logical processors.
        e.ebx = (e.ebx & 0x0000ffff) | (options.vcpu_index << 24) |
                ((options.vcpu_count & 0xff) << 16);
        e.ecx |= kLeaf1EcxHypervisor;
        break;
      case 0xb:
      case 0x1f:
        e.edx = options.vcpu_index;  // x2APIC ID
        break;
      default:
        break;
    }
    out.push_back(e);
  }
  kvm_cpuid_entry2 hv{};
  hv.function = kHypervisorBase;
  hv.eax = kHypervisorBase;  // highest hypervisor leaf: no feature leaves
  hv.ebx = SignatureWord(0);
  hv.ecx = SignatureWord(1);
  hv.edx = SignatureWord(2);
  out.push_back(hv);
  return out;
}

}  // namespace ft::vmm
