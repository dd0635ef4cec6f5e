/* A bump allocator over the free RAM above the image. Nothing is freed:
 * each run executes one workload and powers off. */
#ifndef FTGUEST_LIB_HEAP_H_
#define FTGUEST_LIB_HEAP_H_

#include <stdint.h>

void ftg_heap_init(uint64_t start, uint64_t end);

/* Page-aligned block of size bytes, or NULL if it does not fit. The
 * contents are whatever the memory held: callers initialize it. */
void* ftg_heap_alloc(uint64_t size);

uint64_t ftg_heap_free_bytes(void);

#endif /* FTGUEST_LIB_HEAP_H_ */
