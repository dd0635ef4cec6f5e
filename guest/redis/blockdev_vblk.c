/* ftg_blockdev over virtio-blk, see blockdev_vblk.h. */
#include "blockdev_vblk.h"

#include "drivers/virtio_blk.h"
#include "lib/fmt.h"

/* Requests are split into pieces of at most this many sectors: one
 * descriptor per data buffer must stay within what any device accepts
 * (QEMU and ftvm take more; 256 KiB keeps us clear of size_max limits).
 * Only the AOF's boot-time zeroing is that large; commits are smaller. */
#define MAX_SECTORS_PER_REQUEST 512u

static int report(const char* what, uint64_t sector, enum ftg_vblk_result r) {
  ftg_printf("ftguest: redis: disk %s at sector %lu failed: %s\n", what, sector,
             ftg_vblk_result_name(r));
  return 1;
}

static int vblk_read(struct ftg_blockdev* dev, uint64_t sector, uint32_t count,
                     void* buf) {
  (void)dev;
  char* p = buf;
  while (count > 0) {
    uint32_t n =
        count < MAX_SECTORS_PER_REQUEST ? count : MAX_SECTORS_PER_REQUEST;
    enum ftg_vblk_result r = ftg_vblk_read(sector, p, n * FTG_VBLK_SECTOR_SIZE);
    if (r != FTG_VBLK_OK) return report("read", sector, r);
    sector += n;
    p += (uint64_t)n * FTG_VBLK_SECTOR_SIZE;
    count -= n;
  }
  return 0;
}

static int vblk_write(struct ftg_blockdev* dev, uint64_t sector, uint32_t count,
                      const void* buf) {
  (void)dev;
  const char* p = buf;
  while (count > 0) {
    uint32_t n =
        count < MAX_SECTORS_PER_REQUEST ? count : MAX_SECTORS_PER_REQUEST;
    enum ftg_vblk_result r =
        ftg_vblk_write(sector, p, n * FTG_VBLK_SECTOR_SIZE);
    if (r != FTG_VBLK_OK) return report("write", sector, r);
    sector += n;
    p += (uint64_t)n * FTG_VBLK_SECTOR_SIZE;
    count -= n;
  }
  return 0;
}

static int vblk_flush(struct ftg_blockdev* dev) {
  (void)dev;
  enum ftg_vblk_result r = ftg_vblk_flush();
  return r == FTG_VBLK_OK ? 0 : report("flush", 0, r);
}

bool ftg_blockdev_vblk(struct ftg_blockdev* dev) {
  const struct ftg_vblk_info* info = ftg_vblk_info();
  if (info == NULL || info->sectors == 0) {
    ftg_printf("ftguest: redis: no disk\n");
    return false;
  }
  if (info->read_only) {
    ftg_printf("ftguest: redis: the disk is read-only\n");
    return false;
  }
  dev->sectors = info->sectors;
  dev->ctx = NULL;
  dev->read = vblk_read;
  dev->write = vblk_write;
  dev->flush = vblk_flush;
  return true;
}
