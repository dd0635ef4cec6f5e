/* Parsing struct hvm_start_info, see bootinfo.h. */
#include "lib/bootinfo.h"

#include "ftguest/pvh.h"
#include "ftguest/reference.h"

#define FOUR_GIB 0x100000000ULL
#define HEAP_ALIGN 0x200000ULL /* 2 MiB: one large page of the identity map */

extern char __image_start[], __image_end[]; /* link.ld */

static char cmdline_copy[FTG_CMDLINE_MAX];

void ftg_bootinfo_read(uint32_t start_info_paddr, struct ftg_bootinfo* out) {
  *out = (struct ftg_bootinfo){0};
  out->cmdline = cmdline_copy;
  const struct ftg_hvm_start_info* si =
      (const struct ftg_hvm_start_info*)(uintptr_t)start_info_paddr;
  if (si == NULL || si->magic != FTG_HVM_START_MAGIC) {
    out->error = "bad-start-info-magic";
    return;
  }
  if (si->cmdline_paddr != 0 && si->cmdline_paddr < FOUR_GIB) {
    const char* src = (const char*)(uintptr_t)si->cmdline_paddr;
    size_t n = 0;
    while (src[n] && n < FTG_CMDLINE_MAX - 1) {
      cmdline_copy[n] = src[n];
      n++;
    }
    cmdline_copy[n] = '\0';
    out->cmdline_truncated = src[n] != '\0';
  }
  if (si->version < 1 || si->memmap_paddr == 0 || si->memmap_entries == 0 ||
      si->memmap_paddr >= FOUR_GIB) {
    out->error = "no-memmap";
    return;
  }
  const struct ftg_hvm_memmap_entry* map =
      (const struct ftg_hvm_memmap_entry*)(uintptr_t)si->memmap_paddr;
  uint64_t image_start = (uintptr_t)__image_start;
  uint64_t image_end = (uintptr_t)__image_end;
  for (uint32_t i = 0; i < si->memmap_entries; i++) {
    if (map[i].type != FTG_E820_RAM || map[i].addr >= FOUR_GIB) continue;
    uint64_t start = map[i].addr;
    uint64_t end = map[i].addr + map[i].size;
    if (end > FOUR_GIB || end < start)
      end = FOUR_GIB; /* only 4 GiB is mapped */
    out->ram_below_4g += end - start;
    if (end > out->ram_top) out->ram_top = end;
    /* The heap is the rest of the RAM range holding the image. */
    if (start <= image_start && image_end <= end) {
      out->heap_start = (image_end + HEAP_ALIGN - 1) & ~(HEAP_ALIGN - 1);
      out->heap_end = end & ~(FTG_PAGE_SIZE - 1);
      if (out->heap_start > out->heap_end) out->heap_start = out->heap_end;
    }
  }
  if (out->heap_end == 0) out->error = "image-not-in-ram";
}
