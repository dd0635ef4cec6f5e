/*
 * A split virtqueue (virtio 1.x, section 2.7), driver side, with optional
 * event-index notification suppression (VIRTIO_F_RING_EVENT_IDX).
 *
 * Memory: descriptor table, available ring and used ring in one zeroed,
 * page-aligned heap block (guest-physical == virtual here). Descriptors are
 * managed with a free list threaded through desc[].next.
 *
 * Interrupt policy (what keeps exits per request low): the device is asked
 * for an interrupt only when the driver is about to sleep
 * (ftg_virtq_enable_interrupts). Otherwise used_event is left behind
 * last_used, which with event-index means "do not interrupt", so a request
 * that completes while the driver is still looking costs no interrupt and
 * no acknowledgement exit.
 */
#ifndef FTGUEST_DRIVERS_VIRTQUEUE_H_
#define FTGUEST_DRIVERS_VIRTQUEUE_H_

#include <stdbool.h>
#include <stdint.h>

#define FTG_VIRTQ_DESC_F_NEXT 1
#define FTG_VIRTQ_DESC_F_WRITE 2 /* device writes (a read buffer for us) */

struct ftg_virtq_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

struct ftg_virtq_used_elem {
  uint32_t id; /* head of the chain */
  uint32_t len;
};

/* One buffer of a request chain. */
struct ftg_virtq_buf {
  const void* addr;
  uint32_t len;
  bool device_writes;
};

struct ftg_virtq {
  uint16_t size; /* power of two */
  bool event_idx;
  struct ftg_virtq_desc* desc;
  /* avail: flags, idx, ring[size], used_event */
  volatile uint16_t* avail;
  /* used: flags, idx, then elements; avail_event after ring[size] */
  volatile uint16_t* used_hdr;
  volatile struct ftg_virtq_used_elem* used_ring;
  volatile uint16_t* avail_event;
  uint16_t avail_idx; /* next index the driver publishes */
  uint16_t published; /* avail_idx the device was last told about */
  uint16_t last_used; /* used entries consumed so far */
  uint16_t free_head;
  uint16_t num_free;
  uint64_t mem_base; /* physical addresses for the transport */
  uint64_t avail_addr;
  uint64_t used_addr;
};

/* Allocates and lays out a queue of `size` entries (a power of two). */
bool ftg_virtq_init(struct ftg_virtq* q, uint16_t size, bool event_idx);

/* Adds a chain of n buffers; returns its head, or -1 if there are not n
 * free descriptors. The device sees it after ftg_virtq_publish. */
int ftg_virtq_add(struct ftg_virtq* q, const struct ftg_virtq_buf* bufs,
                  unsigned n);

/* Makes added chains visible; returns true if the device must be notified
 * (event index or the NO_NOTIFY flag say it is not already looking). */
bool ftg_virtq_publish(struct ftg_virtq* q);

/* True if the device has returned chains not yet taken. No exits. */
bool ftg_virtq_has_used(const struct ftg_virtq* q);

/* Takes one returned chain (head id and bytes written), freeing its
 * descriptors. False if none. */
bool ftg_virtq_take_used(struct ftg_virtq* q, uint32_t* id, uint32_t* len);

/* Asks for an interrupt at the next returned chain. Returns true if chains
 * are already waiting (the caller takes them instead of sleeping; the
 * interrupt may or may not come). */
bool ftg_virtq_enable_interrupts(struct ftg_virtq* q);

/* Back to "no interrupts" after waiting. With event index this is a no-op:
 * used_event falls behind by itself as soon as chains are taken. */
void ftg_virtq_disable_interrupts(struct ftg_virtq* q);

#endif /* FTGUEST_DRIVERS_VIRTQUEUE_H_ */
