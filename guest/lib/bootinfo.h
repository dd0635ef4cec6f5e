/* What the guest learns from the PVH start info, copied out once. */
#ifndef FTGUEST_LIB_BOOTINFO_H_
#define FTGUEST_LIB_BOOTINFO_H_

#include <stdint.h>

#define FTG_CMDLINE_MAX 4096

struct ftg_bootinfo {
  const char* error;     /* NULL, or why the start info is unusable */
  const char* cmdline;   /* private copy; "" if none */
  int cmdline_truncated; /* longer than FTG_CMDLINE_MAX - 1 bytes */
  uint64_t ram_top;      /* end of the highest RAM range below 4 GiB */
  uint64_t ram_below_4g; /* sum of RAM ranges below 4 GiB */
  uint64_t heap_start;   /* free RAM after the image, 2 MiB aligned */
  uint64_t heap_end;
};

/* Reads the start info at physical start_info_paddr (identity mapped).
 * Must run before anything writes above the image: the VMM may have put the
 * start info, the memory map or the command line there. */
void ftg_bootinfo_read(uint32_t start_info_paddr, struct ftg_bootinfo* out);

#endif /* FTGUEST_LIB_BOOTINFO_H_ */
