/*
 * The PVH boot ABI (Xen's arch-x86/hvm/start_info.h), as the guest reads it
 * and as a VMM must write it. Plain C that also compiles as C++.
 */
#ifndef FTGUEST_PVH_H_
#define FTGUEST_PVH_H_

#include <stdint.h>

/* ELF note (name "Xen") whose descriptor is the 32-bit physical entry. */
#define FTG_XEN_ELFNOTE_PHYS32_ENTRY 18

#define FTG_HVM_START_MAGIC 0x336ec578u

/* EBX points here at entry. All addresses are guest-physical. */
struct ftg_hvm_start_info {
  uint32_t magic;   /* FTG_HVM_START_MAGIC */
  uint32_t version; /* memmap_* fields are valid from version 1 */
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr; /* NUL-terminated; 0 means no command line */
  uint64_t rsdp_paddr;
  uint64_t memmap_paddr; /* array of ftg_hvm_memmap_entry */
  uint32_t memmap_entries;
  uint32_t reserved;
};

/* E820-style. */
struct ftg_hvm_memmap_entry {
  uint64_t addr;
  uint64_t size;
  uint32_t type; /* FTG_E820_RAM is usable RAM */
  uint32_t reserved;
};

#define FTG_E820_RAM 1u

#endif /* FTGUEST_PVH_H_ */
