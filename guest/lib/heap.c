/* Bump allocator, see heap.h. */
#include "lib/heap.h"

#include <stddef.h>

#include "ftguest/reference.h"

static uint64_t heap_next;
static uint64_t heap_end;

void ftg_heap_init(uint64_t start, uint64_t end) {
  heap_next = start;
  heap_end = end;
}

void* ftg_heap_alloc(uint64_t size) {
  uint64_t rounded = (size + FTG_PAGE_SIZE - 1) & ~(FTG_PAGE_SIZE - 1);
  if (rounded < size || rounded > heap_end - heap_next) return NULL;
  void* p = (void*)(uintptr_t)heap_next;
  heap_next += rounded;
  return p;
}

uint64_t ftg_heap_free_bytes(void) { return heap_end - heap_next; }
