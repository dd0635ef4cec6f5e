/*
 * struct ftg_blockdev over the guest's virtio-blk driver
 * (drivers/virtio_blk.h), for the AOF. Guest only.
 */
#ifndef FTGUEST_REDIS_BLOCKDEV_VBLK_H_
#define FTGUEST_REDIS_BLOCKDEV_VBLK_H_

#include <stdbool.h>

#include "blockdev.h"

/* Fills dev for the disk ftg_vblk_open found. False (after saying why) if
 * there is none or it is read-only. */
bool ftg_blockdev_vblk(struct ftg_blockdev* dev);

#endif /* FTGUEST_REDIS_BLOCKDEV_VBLK_H_ */
