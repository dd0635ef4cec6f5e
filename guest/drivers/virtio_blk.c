/* virtio-blk over virtio-mmio, see virtio_blk.h. */
#include "drivers/virtio_blk.h"

#include <stddef.h>

#include "drivers/virtio_mmio.h"
#include "drivers/virtqueue.h"
#include "lib/cmdline.h"
#include "lib/events.h"
#include "lib/fmt.h"
#include "lib/heap.h"
#include "lib/pio.h"
#include "lib/pit.h"
#include "lib/timer.h"

#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define REG_CONFIG_GENERATION 0x0fc

#define QUEUE_SIZE 128
/* How long to watch the used ring before halting, in `pause` iterations
 * (40-140 cycles each: 4000 is ~0.2 ms here), overridable with vblk_spin=
 * on the command line. Spinning is cheaper than halt + interrupt + the
 * acknowledgement exit when the device completes within it (QEMU's I/O
 * thread often does), and bounded when it does not. A VMM that completes
 * requests during the notify exit is seen on the first look. */
#define DEFAULT_SPIN_PAUSES 4000
#define MAX_SPIN_PAUSES 100000000

struct req_header {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};

static struct {
  bool open;
  struct ftg_virtio_mmio dev;
  struct ftg_virtq q;
  struct ftg_vblk_info info;
  struct req_header* header; /* one request in flight: its header... */
  volatile uint8_t* status;  /* ... and status byte, in one heap page */
  int in_flight;             /* head of the request in flight, or -1 */
  bool done;
  uint32_t done_len;
  uint64_t seq;              /* requests submitted */
  struct ftg_timer watchdog; /* see wait_done */
  uint64_t watchdog_seq;
  bool timed_out;
  uint64_t spin_pauses;
  struct ftg_vblk_stats stats;
} blk;

static void take_used(void) {
  uint32_t id, len;
  while (ftg_virtq_take_used(&blk.q, &id, &len)) {
    if ((int)id == blk.in_flight) {
      blk.done = true;
      blk.done_len = len;
    }
  }
}

static void on_irq(void* ctx) {
  (void)ctx;
  blk.stats.interrupts++;
  /* Acknowledge without reading InterruptStatus first: the line is this
   * device's alone, the only event we act on is "used ring updated", and
   * a config change (resize) needs nothing from us. Saves one exit. Then
   * look at the ring: a completion that raced with the ack is seen here. */
  ftg_virtio_mmio_write(&blk.dev, FTG_VIRTIO_MMIO_INTERRUPT_ACK,
                        FTG_VIRTIO_INT_VRING | FTG_VIRTIO_INT_CONFIG);
  take_used();
}

/* Fires every FTG_VBLK_TIMEOUT_MS while requests are waited for; a request
 * still in flight with no new one submitted since the last firing is
 * declared lost. Left pending between requests, so arming costs nothing. */
static void on_watchdog(struct ftg_timer* t) {
  (void)t;
  if (blk.in_flight < 0) return;
  if (blk.seq == blk.watchdog_seq) {
    blk.timed_out = true;
    return;
  }
  blk.watchdog_seq = blk.seq;
  ftg_timer_start(&blk.watchdog,
                  ftg_clock_last() + ftg_ms_to_ticks(FTG_VBLK_TIMEOUT_MS),
                  on_watchdog, NULL);
}

static void wait_done(void) {
  for (uint64_t i = 0; i < blk.spin_pauses; i++) {
    take_used();
    if (blk.done) {
      blk.stats.spun++;
      return;
    }
    ftg_pause();
  }
  blk.stats.slept++;
  if (!blk.watchdog.pending) {
    blk.watchdog_seq = blk.seq;
    ftg_timer_start(&blk.watchdog,
                    ftg_clock_last() + ftg_ms_to_ticks(FTG_VBLK_TIMEOUT_MS),
                    on_watchdog, NULL);
  }
  while (!blk.done && !blk.timed_out) {
    ftg_events_poll();
    if (blk.done || blk.timed_out) break;
    if (ftg_virtq_enable_interrupts(&blk.q)) {
      take_used();
      continue;
    }
    ftg_events_idle();
  }
  ftg_virtq_disable_interrupts(&blk.q);
}

static enum ftg_vblk_result submit(uint32_t type, uint64_t sector, void* buf,
                                   uint32_t bytes) {
  if (!blk.open || blk.timed_out) return FTG_VBLK_TIMEOUT;
  struct ftg_virtq_buf bufs[3];
  unsigned n = 0;
  blk.header->type = type;
  blk.header->reserved = 0;
  blk.header->sector = sector;
  *blk.status = 0xff;
  bufs[n++] = (struct ftg_virtq_buf){blk.header, sizeof(*blk.header), false};
  if (bytes > 0)
    bufs[n++] = (struct ftg_virtq_buf){buf, bytes, type == VIRTIO_BLK_T_IN};
  bufs[n++] = (struct ftg_virtq_buf){(const void*)blk.status, 1, true};
  int head = ftg_virtq_add(&blk.q, bufs, n);
  if (head < 0) return FTG_VBLK_BAD_REQUEST; /* cannot happen: one at a time */
  blk.in_flight = head;
  blk.done = false;
  blk.seq++;
  blk.stats.requests++;
  if (ftg_virtq_publish(&blk.q)) {
    blk.stats.notifies++;
    ftg_virtio_mmio_notify(&blk.dev, 0);
  }
  wait_done();
  blk.in_flight = -1;
  if (!blk.done) return FTG_VBLK_TIMEOUT;
  switch (*blk.status) {
    case VIRTIO_BLK_S_OK:
      return FTG_VBLK_OK;
    case VIRTIO_BLK_S_UNSUPP:
      return FTG_VBLK_UNSUPPORTED;
    default:
      return FTG_VBLK_IOERR;
  }
}

static bool in_range(uint64_t sector, uint32_t bytes) {
  if (bytes == 0 || bytes % FTG_VBLK_SECTOR_SIZE != 0) return false;
  uint64_t n = bytes / FTG_VBLK_SECTOR_SIZE;
  return sector <= blk.info.sectors && n <= blk.info.sectors - sector;
}

enum ftg_vblk_result ftg_vblk_read(uint64_t sector, void* buf, uint32_t bytes) {
  if (!in_range(sector, bytes)) return FTG_VBLK_BAD_REQUEST;
  return submit(VIRTIO_BLK_T_IN, sector, buf, bytes);
}

enum ftg_vblk_result ftg_vblk_write(uint64_t sector, const void* buf,
                                    uint32_t bytes) {
  if (!in_range(sector, bytes)) return FTG_VBLK_BAD_REQUEST;
  if (blk.info.read_only) return FTG_VBLK_UNSUPPORTED;
  return submit(VIRTIO_BLK_T_OUT, sector, (void*)buf, bytes);
}

enum ftg_vblk_result ftg_vblk_flush(void) {
  if (!blk.info.flush) return FTG_VBLK_OK; /* write-through: nothing to do */
  return submit(VIRTIO_BLK_T_FLUSH, 0, NULL, 0);
}

/* A consistent 64-bit config field (two 32-bit halves, generation-checked). */
static uint64_t read_config64(uint32_t off) {
  uint32_t gen, lo, hi;
  do {
    gen = ftg_virtio_mmio_read(&blk.dev, REG_CONFIG_GENERATION);
    lo = ftg_virtio_mmio_read(&blk.dev, FTG_VIRTIO_MMIO_CONFIG + off);
    hi = ftg_virtio_mmio_read(&blk.dev, FTG_VIRTIO_MMIO_CONFIG + off + 4);
  } while (gen != ftg_virtio_mmio_read(&blk.dev, REG_CONFIG_GENERATION));
  return (uint64_t)hi << 32 | lo;
}

bool ftg_vblk_open(const char* cmdline) {
  if (blk.open) return true;
  struct ftg_str v;
  blk.spin_pauses = DEFAULT_SPIN_PAUSES;
  if (ftg_cmdline_get(cmdline, "vblk_spin", &v) &&
      (!ftg_parse_u64(v, &blk.spin_pauses) ||
       blk.spin_pauses > MAX_SPIN_PAUSES)) {
    ftg_printf(
        "ftguest: vblk_spin: want a number of pause iterations up "
        "to %u; using %u\n",
        MAX_SPIN_PAUSES, DEFAULT_SPIN_PAUSES);
    blk.spin_pauses = DEFAULT_SPIN_PAUSES;
  }
  if (!ftg_virtio_mmio_find(cmdline, FTG_VIRTIO_ID_BLOCK, &blk.dev)) {
    ftg_printf(
        "ftguest: virtio-blk: no device (want a "
        "virtio_mmio.device=<size>@<base>:<irq> token for one)\n");
    return false;
  }
  uint64_t features;
  uint64_t wanted = 1ull << FTG_VIRTIO_F_RING_EVENT_IDX |
                    1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_RO;
  if (!ftg_virtio_mmio_negotiate(&blk.dev, wanted, 0, &features)) return false;
  bool event_idx = features & (1ull << FTG_VIRTIO_F_RING_EVENT_IDX);
  void* page = ftg_heap_alloc(4096);
  if (page == NULL) {
    ftg_printf("ftguest: virtio-blk: out of memory\n");
    return false;
  }
  if (!ftg_virtio_mmio_setup_queue(&blk.dev, 0, QUEUE_SIZE, event_idx, &blk.q))
    return false; /* the transport said why */
  blk.header = page;
  blk.status = (volatile uint8_t*)page + sizeof(struct req_header);
  blk.in_flight = -1;
  blk.info = (struct ftg_vblk_info){
      .base = blk.dev.base,
      .irq = blk.dev.irq,
      .sectors = read_config64(0),
      .queue_size = blk.q.size,
      .read_only = features & (1ull << VIRTIO_BLK_F_RO),
      .flush = features & (1ull << VIRTIO_BLK_F_FLUSH),
      .event_idx = event_idx,
  };
  if (!ftg_irq_register(blk.dev.irq, on_irq, NULL)) {
    ftg_printf("ftguest: virtio-blk: IRQ %u already in use\n", blk.dev.irq);
    return false;
  }
  ftg_virtio_mmio_driver_ok(&blk.dev);
  blk.open = true;
  ftg_printf(
      "ftguest: virtio-blk base=0x%lx irq=%u sectors=%lu queue=%u "
      "event_idx=%d flush=%d ro=%d spin=%lu\n",
      blk.info.base, blk.info.irq, blk.info.sectors, blk.info.queue_size,
      blk.info.event_idx, blk.info.flush, blk.info.read_only, blk.spin_pauses);
  return true;
}

const struct ftg_vblk_info* ftg_vblk_info(void) { return &blk.info; }

const char* ftg_vblk_result_name(enum ftg_vblk_result r) {
  switch (r) {
    case FTG_VBLK_OK:
      return "ok";
    case FTG_VBLK_IOERR:
      return "io-error";
    case FTG_VBLK_UNSUPPORTED:
      return "unsupported";
    case FTG_VBLK_TIMEOUT:
      return "timeout";
    case FTG_VBLK_BAD_REQUEST:
      return "bad-request";
  }
  return "?";
}

const struct ftg_vblk_stats* ftg_vblk_stats(void) { return &blk.stats; }
