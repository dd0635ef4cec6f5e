/*
 * The block device the AOF writes to, as an interface: the guest implements
 * it over its virtio-blk driver, host tests over memory. 512-byte sectors.
 *
 * Semantics the AOF relies on (virtio-blk provides them): a write of one
 * sector is atomic (old or new contents after a crash, never a mix); a
 * multi-sector write may be torn at sector granularity; writes that
 * completed before a successful flush() survive a crash.
 */
#ifndef FTGUEST_REDIS_BLOCKDEV_H_
#define FTGUEST_REDIS_BLOCKDEV_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FTG_BLOCKDEV_SECTOR_SIZE 512u

struct ftg_blockdev {
  uint64_t sectors; /* capacity */
  void* ctx;        /* the implementation's */
  /* All return 0 on success, nonzero on an I/O error. */
  int (*read)(struct ftg_blockdev* dev, uint64_t sector, uint32_t count,
              void* buf);
  int (*write)(struct ftg_blockdev* dev, uint64_t sector, uint32_t count,
               const void* buf);
  int (*flush)(struct ftg_blockdev* dev);
};

#ifdef __cplusplus
}
#endif

#endif /* FTGUEST_REDIS_BLOCKDEV_H_ */
