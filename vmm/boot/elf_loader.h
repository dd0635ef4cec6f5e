// Loads a PVH-bootable ELF kernel into guest memory.
//
// PVH is the boot protocol QEMU (-kernel with an ELF) and Firecracker use for
// uncompressed kernels: the VMM places the PT_LOAD segments at their physical
// addresses and starts the vCPU in 32-bit protected mode, paging off, at the
// address given by the ELF note XEN_ELFNOTE_PHYS32_ENTRY (name "Xen", type
// 18). Linux builds such a vmlinux with CONFIG_PVH=y; the ftvm test guest is
// one too. docs/boot.md describes what is accepted and rejected.
//
// The image is untrusted input (an operator may point ftvm at anything, and
// a migrated VM's kernel comes from a peer): every field is validated with
// overflow-safe arithmetic, and nothing is written to guest memory until the
// whole image has been validated, so a failed load leaves RAM untouched.
//
// Thread ownership: stateless; call from the thread that builds the VM.
#ifndef FTVM_VMM_BOOT_ELF_LOADER_H_
#define FTVM_VMM_BOOT_ELF_LOADER_H_

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "common/strong_types.h"
#include "vmm/memory/guest_memory.h"

namespace ft::vmm {

struct ElfLoadOptions {
  // Segments may not start below this: ftvm keeps the PVH start info, memory
  // map and command line in the first MiB.
  Gpa min_address = Gpa(0x100000);
};

struct LoadedKernel {
  Gpa entry;  // 32-bit PVH entry point from the XEN_ELFNOTE_PHYS32_ENTRY note
  Gpa low;    // lowest guest physical byte loaded
  Gpa high;   // one past the highest byte loaded (p_paddr + p_memsz)
  bool elf64 = false;  // ELFCLASS64 (true) or ELFCLASS32
};

// Largest kernel image LoadPvhElfFile() reads.
inline constexpr uint64_t kMaxKernelFileSize = uint64_t{256} << 20;

// Loads a PVH-bootable ELF kernel image: ELF32 or ELF64, little-endian,
// EM_386 or EM_X86_64, ET_EXEC or ET_DYN (not relocated). PT_LOAD segments
// are copied to p_paddr and their bss (p_memsz > p_filesz) zeroed. The entry
// comes from a PT_NOTE segment, or from an SHT_NOTE section if no PT_NOTE
// carries it; its descriptor is 4 or 8 bytes and must point into a loaded
// segment below 4 GiB. Errors are InvalidArgument (malformed or unsupported
// image) or OutOfRange (a segment outside guest RAM) and name the field and
// value at fault.
absl::StatusOr<LoadedKernel> LoadPvhElf(std::span<const uint8_t> image,
                                        const GuestMemory& memory,
                                        const ElfLoadOptions& options = {});

// Reads the file at `path` (at most kMaxKernelFileSize bytes) and calls
// LoadPvhElf(). Error messages start with the path.
absl::StatusOr<LoadedKernel> LoadPvhElfFile(const std::string& path,
                                            const GuestMemory& memory,
                                            const ElfLoadOptions& options = {});

}  // namespace ft::vmm

#endif  // FTVM_VMM_BOOT_ELF_LOADER_H_
