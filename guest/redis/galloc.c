/*
 * rd_malloc & co. for the guest (rd_alloc.h): a size-class allocator over
 * the guest's bump heap (lib/heap.h), which itself never frees.
 *
 * Blocks are rounded up to classes 16, 24, 32, 48, 64, 96, ... (powers of
 * two and 1.5x between: at most a third wasted) and carry a 16-byte header
 * with their class. Freed blocks go on their class's free list and are
 * reused first; new ones are carved from 1 MiB arenas taken from the heap
 * (large ones from the heap directly). Deterministic: the same calls give
 * the same addresses on every run, which replay needs.
 *
 * Guest only: it includes guest/lib. Host tests use libc (host_alloc.cc).
 */
#include <stdint.h>
#include <string.h>

#include "lib/heap.h"
#include "rd_alloc.h"

#define HEADER 16u
#define ARENA (1024u * 1024u)
#define NUM_CLASSES 60    /* 16 .. 1.5 * 2^32 */
#define MAGIC 0x52444d41u /* "RDMA" */

struct header {
  uint32_t cls;
  uint32_t magic;
  uint64_t size; /* requested: for used_memory and realloc */
};

struct free_block {
  struct free_block* next;
};

static struct free_block* free_lists[NUM_CLASSES];
static char* arena_next;
static char* arena_end;
static size_t used;

/* Class c holds blocks (header included) of class_size(c) bytes. */
static uint64_t class_size(unsigned c) {
  uint64_t base = 16ull << (c / 2);
  return c % 2 ? base + base / 2 : base;
}

/* The smallest class that holds total bytes, or NUM_CLASSES if none. */
static unsigned class_of(uint64_t total) {
  unsigned c = 0;
  while (c < NUM_CLASSES && class_size(c) < total) c++;
  return c;
}

/* Pushes what is left of the current arena onto free lists, biggest class
 * pieces first, so switching arenas wastes nothing. */
static void retire_arena(void) {
  for (unsigned c = NUM_CLASSES; c-- > 0;) {
    while ((uint64_t)(arena_end - arena_next) >= class_size(c)) {
      struct header* h = (struct header*)arena_next;
      arena_next += class_size(c);
      h->cls = c;
      h->magic = MAGIC;
      struct free_block* b = (struct free_block*)(h + 1);
      b->next = free_lists[c];
      free_lists[c] = b;
    }
  }
  arena_next = arena_end = NULL;
}

static struct header* carve(unsigned c) {
  uint64_t size = class_size(c);
  if (size >= ARENA / 4) return ftg_heap_alloc(size); /* page rounded */
  if ((uint64_t)(arena_end - arena_next) < size) {
    char* a = ftg_heap_alloc(ARENA);
    if (a == NULL) return NULL;
    retire_arena();
    arena_next = a;
    arena_end = a + ARENA;
  }
  struct header* h = (struct header*)arena_next;
  arena_next += size;
  return h;
}

void* rd_malloc(size_t size) {
  unsigned c = class_of((uint64_t)size + HEADER);
  if (c >= NUM_CLASSES) return NULL;
  struct header* h;
  if (free_lists[c] != NULL) {
    struct free_block* b = free_lists[c];
    free_lists[c] = b->next;
    h = (struct header*)b - 1;
  } else {
    h = carve(c);
    if (h == NULL) return NULL;
  }
  h->cls = c;
  h->magic = MAGIC;
  h->size = size;
  used += size;
  return h + 1;
}

void rd_free(void* p) {
  if (p == NULL) return;
  struct header* h = (struct header*)p - 1;
  if (h->magic != MAGIC || h->cls >= NUM_CLASSES) {
    /* A wild or double free would corrupt the lists: stop dead instead
     * (the exception handler reports it and ends the run). */
    __builtin_trap();
  }
  used -= h->size;
  h->magic = 0;
  struct free_block* b = p;
  b->next = free_lists[h->cls];
  free_lists[h->cls] = b;
}

void* rd_realloc(void* p, size_t size) {
  if (p == NULL) return rd_malloc(size);
  struct header* h = (struct header*)p - 1;
  if ((uint64_t)size + HEADER <= class_size(h->cls)) {
    used = used - h->size + size;
    h->size = size;
    return p;
  }
  void* q = rd_malloc(size);
  if (q == NULL) return NULL;
  memcpy(q, p, h->size < size ? h->size : size);
  rd_free(p);
  return q;
}

size_t rd_used_memory(void) { return used; }
