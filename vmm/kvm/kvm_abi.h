// C layouts of the KVM structures that end in a flexible array, and the
// ioctl numbers computed from them.
//
// Linux's uapi headers declare these arrays with __DECLARE_FLEX_ARRAY, which
// in C++ puts a 1-byte empty struct before the array: kvm_cpuid2 becomes 12
// bytes instead of 8, its entries move to offset 12, and every ioctl number
// derived from sizeof() changes (KVM then answers EINVAL). Use these instead
// of the header's structs and macros for the affected calls.
#ifndef FTVM_VMM_KVM_KVM_ABI_H_
#define FTVM_VMM_KVM_KVM_ABI_H_

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace ft::vmm::abi {

// Followed by `nent` kvm_cpuid_entry2.
struct Cpuid2Header {
  uint32_t nent;
  uint32_t padding;
};
// Followed by `nmsrs` kvm_msr_entry.
struct MsrsHeader {
  uint32_t nmsrs;
  uint32_t pad;
};
// Followed by `nmsrs` uint32_t indices.
struct MsrListHeader {
  uint32_t nmsrs;
};
struct Xsave {
  uint32_t region[1024];
};

inline constexpr unsigned long kGetSupportedCpuid =
    _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
inline constexpr unsigned long kGetCpuid2 = _IOWR(KVMIO, 0x91, Cpuid2Header);
inline constexpr unsigned long kGetMsrIndexList =
    _IOWR(KVMIO, 0x02, MsrListHeader);
inline constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
inline constexpr unsigned long kGetXsave = _IOR(KVMIO, 0xa4, Xsave);
inline constexpr unsigned long kSetXsave = _IOW(KVMIO, 0xa5, Xsave);

// The values C code gets from <linux/kvm.h>.
static_assert(kGetSupportedCpuid == 0xc008ae05);
static_assert(kSetCpuid2 == 0x4008ae90);
static_assert(kGetMsrs == 0xc008ae88);
static_assert(kGetXsave == 0x9000aea4);
static_assert(sizeof(kvm_cpuid_entry2) == 40);

}  // namespace ft::vmm::abi

#endif  // FTVM_VMM_KVM_KVM_ABI_H_
