// The x86 PVH boot protocol, guest side set-up: the hvm_start_info
// structure, the memory map and the command line in guest memory, and the
// vCPU state at the 32-bit entry point (as QEMU and Firecracker provide).
#ifndef FTVM_VMM_BOOT_PVH_H_
#define FTVM_VMM_BOOT_PVH_H_

#include <linux/kvm.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/strong_types.h"
#include "vmm/memory/guest_memory.h"

namespace ft::vmm {

// Layout of ftvm's boot data in the first MiB (below any kernel segment).
inline constexpr Gpa kPvhStartInfoAddress{0x7000};
inline constexpr Gpa kPvhMemmapAddress{0x7040};
inline constexpr Gpa kPvhCmdlineAddress{0x8000};
// The command line, without its NUL, must fit in one page.
inline constexpr size_t kPvhMaxCmdline = 4095;

inline constexpr uint32_t kPvhStartMagic = 0x336ec578;

// Layouts fixed by the Xen public header arch-x86/hvm/start_info.h.
struct HvmStartInfo {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr;
  uint64_t rsdp_paddr;
  uint64_t memmap_paddr;
  uint32_t memmap_entries;
  uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);

struct HvmMemmapEntry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;  // 1 = RAM, 2 = reserved (E820 types)
  uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);

// Writes the start info, memory map and command line into `memory`, and
// returns the start info's address (to pass in EBX).
absl::StatusOr<Gpa> WritePvhBootInfo(const GuestMemory& memory,
                                     const std::string& cmdline);

// vCPU state at the PVH entry: 32-bit protected mode, paging off, flat
// 4 GiB code and data segments, EBX = start info, interrupts disabled.
struct PvhEntryState {
  kvm_regs regs;
  kvm_sregs sregs;
  kvm_fpu fpu;
};
// `base` is the state from KVM_GET_SREGS of a fresh vCPU (it carries fields
// such as the APIC base that must be kept).
PvhEntryState MakePvhEntryState(Gpa entry, Gpa start_info,
                                const kvm_sregs& base);

}  // namespace ft::vmm

#endif  // FTVM_VMM_BOOT_PVH_H_
