/*
 * virtio-blk driver: one request queue, synchronous requests.
 *
 * A request is submitted (1 exit to notify, unless event index says the
 * device is already looking), then the driver watches the used ring at
 * native speed for a moment, and only then asks for an interrupt and halts.
 * The interrupt handler acknowledges (1 exit) and takes what is done,
 * re-checking the ring after the acknowledgement so a completion racing
 * with it is not lost. Requests that never complete end with
 * FTG_VBLK_TIMEOUT after FTG_VBLK_TIMEOUT_MS instead of hanging the guest.
 */
#ifndef FTGUEST_DRIVERS_VIRTIO_BLK_H_
#define FTGUEST_DRIVERS_VIRTIO_BLK_H_

#include <stdbool.h>
#include <stdint.h>

#define FTG_VBLK_SECTOR_SIZE 512u
#define FTG_VBLK_TIMEOUT_MS 10000u

enum ftg_vblk_result {
  FTG_VBLK_OK = 0,
  FTG_VBLK_IOERR,       /* the device said VIRTIO_BLK_S_IOERR */
  FTG_VBLK_UNSUPPORTED, /* VIRTIO_BLK_S_UNSUPP, or a write to a RO disk */
  FTG_VBLK_TIMEOUT,     /* no completion within FTG_VBLK_TIMEOUT_MS */
  FTG_VBLK_BAD_REQUEST, /* beyond the disk, or not whole sectors */
};

struct ftg_vblk_info {
  uint64_t base; /* transport */
  uint32_t irq;
  uint64_t sectors; /* capacity in 512-byte sectors */
  uint16_t queue_size;
  bool read_only;
  bool flush;     /* the device has a write cache to flush */
  bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
};

/* Finds the first virtio-blk device announced on the command line and
 * initializes it (after ftg_events_init and ftg_timer_init); prints one
 * line describing it, or why there is none. */
bool ftg_vblk_open(const char* cmdline);

const struct ftg_vblk_info* ftg_vblk_info(void);

/* Whole sectors; buf must stay put until the call returns. */
enum ftg_vblk_result ftg_vblk_read(uint64_t sector, void* buf, uint32_t bytes);
enum ftg_vblk_result ftg_vblk_write(uint64_t sector, const void* buf,
                                    uint32_t bytes);
/* Makes completed writes durable (a no-op if the device has no cache). */
enum ftg_vblk_result ftg_vblk_flush(void);

const char* ftg_vblk_result_name(enum ftg_vblk_result r);

struct ftg_vblk_stats {
  uint64_t requests;
  uint64_t notifies;   /* QueueNotify writes (exits) */
  uint64_t interrupts; /* handler runs, each one InterruptACK write (exit) */
  uint64_t spun;       /* requests found complete while spinning */
  uint64_t slept;      /* requests that had to halt for their interrupt */
};
const struct ftg_vblk_stats* ftg_vblk_stats(void);

#endif /* FTGUEST_DRIVERS_VIRTIO_BLK_H_ */
