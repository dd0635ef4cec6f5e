/* Split virtqueue, see virtqueue.h. */
#include "drivers/virtqueue.h"

#include <stddef.h>

#include "arch/cpu.h"
#include "ftguest/reference.h"
#include "lib/heap.h"
#include "lib/string.h"

#define AVAIL_F_NO_INTERRUPT 1
#define USED_F_NO_NOTIFY 1

/* Indices into q->avail (16-bit words). */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 1
#define AVAIL_RING 2

static uint64_t align_up(uint64_t v, uint64_t a) {
  return (v + a - 1) & ~(a - 1);
}

bool ftg_virtq_init(struct ftg_virtq* q, uint16_t size, bool event_idx) {
  if (size == 0 || (size & (size - 1)) != 0) return false;
  /* Alignments from the spec: desc 16, avail 2, used 4. */
  uint64_t desc_bytes = 16ull * size;
  uint64_t avail_off = desc_bytes;
  uint64_t avail_bytes = 2ull * (3 + size); /* flags, idx, ring, used_event */
  uint64_t used_off = align_up(avail_off + avail_bytes, 4);
  uint64_t used_bytes = 4 + 8ull * size + 2; /* flags, idx, ring, avail_event */
  uint64_t total = used_off + used_bytes;
  uint8_t* mem = ftg_heap_alloc(total);
  if (mem == NULL) return false;
  memset(mem, 0, align_up(total, FTG_PAGE_SIZE));

  *q = (struct ftg_virtq){0};
  q->size = size;
  q->event_idx = event_idx;
  q->desc = (struct ftg_virtq_desc*)mem;
  q->avail = (volatile uint16_t*)(mem + avail_off);
  q->used_hdr = (volatile uint16_t*)(mem + used_off);
  q->used_ring = (volatile struct ftg_virtq_used_elem*)(mem + used_off + 4);
  q->avail_event = (volatile uint16_t*)(mem + used_off + 4 + 8ull * size);
  q->mem_base = (uint64_t)(uintptr_t)mem;
  q->avail_addr = q->mem_base + avail_off;
  q->used_addr = q->mem_base + used_off;
  for (uint16_t i = 0; i < size; i++) q->desc[i].next = (uint16_t)(i + 1);
  q->free_head = 0;
  q->num_free = size;
  /* Interrupts off until someone waits (see the header). Without event
   * index that is the avail flag; with it, used_event = 0xffff is already
   * "behind" the (zero) used index for the first 65535 completions. */
  if (event_idx)
    q->avail[AVAIL_RING + size] = 0xffff;
  else
    q->avail[AVAIL_FLAGS] = AVAIL_F_NO_INTERRUPT;
  return true;
}

int ftg_virtq_add(struct ftg_virtq* q, const struct ftg_virtq_buf* bufs,
                  unsigned n) {
  if (n == 0 || n > q->num_free) return -1;
  uint16_t head = q->free_head;
  uint16_t i = head;
  for (unsigned k = 0; k < n; k++) {
    struct ftg_virtq_desc* d = &q->desc[i];
    d->addr = (uint64_t)(uintptr_t)bufs[k].addr;
    d->len = bufs[k].len;
    d->flags = (uint16_t)((bufs[k].device_writes ? FTG_VIRTQ_DESC_F_WRITE : 0) |
                          (k + 1 < n ? FTG_VIRTQ_DESC_F_NEXT : 0));
    if (k + 1 < n) i = d->next;
  }
  q->free_head = q->desc[i].next;
  q->num_free = (uint16_t)(q->num_free - n);
  q->avail[AVAIL_RING + (q->avail_idx & (q->size - 1))] = head;
  q->avail_idx++;
  return head;
}

bool ftg_virtq_publish(struct ftg_virtq* q) {
  uint16_t old = q->published, now = q->avail_idx;
  if (old == now) return false;
  ftg_barrier(); /* descriptors and ring entries before the index */
  q->avail[AVAIL_IDX] = now;
  q->published = now;
  /* The device's "where I will look next" must be read after our index is
   * visible, or both sides may decide the other one will act. */
  ftg_mb();
  if (!q->event_idx) return !(q->used_hdr[0] & USED_F_NO_NOTIFY);
  uint16_t event = *q->avail_event;
  /* vring_need_event: notify if event lies in [old, now). */
  return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

bool ftg_virtq_has_used(const struct ftg_virtq* q) {
  return q->used_hdr[1] != q->last_used;
}

bool ftg_virtq_take_used(struct ftg_virtq* q, uint32_t* id, uint32_t* len) {
  if (!ftg_virtq_has_used(q)) return false;
  ftg_barrier(); /* the index before the element it covers */
  volatile struct ftg_virtq_used_elem* e =
      &q->used_ring[q->last_used & (q->size - 1)];
  uint32_t head = e->id;
  *id = head;
  *len = e->len;
  q->last_used++;
  if (head >= q->size) return true; /* a broken device: leak, do not crash */
  /* Return the chain to the free list. */
  uint16_t i = (uint16_t)head;
  uint16_t n = 1;
  while ((q->desc[i].flags & FTG_VIRTQ_DESC_F_NEXT) && n < q->size) {
    i = q->desc[i].next;
    n++;
  }
  q->desc[i].next = q->free_head;
  q->free_head = (uint16_t)head;
  q->num_free = (uint16_t)(q->num_free + n);
  return true;
}

bool ftg_virtq_enable_interrupts(struct ftg_virtq* q) {
  if (q->event_idx)
    q->avail[AVAIL_RING + q->size] = q->last_used; /* used_event */
  else
    q->avail[AVAIL_FLAGS] = 0;
  ftg_mb(); /* the request before the re-check below */
  return ftg_virtq_has_used(q);
}

void ftg_virtq_disable_interrupts(struct ftg_virtq* q) {
  if (!q->event_idx) q->avail[AVAIL_FLAGS] = AVAIL_F_NO_INTERRUPT;
}
