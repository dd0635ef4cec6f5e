/*
 * Memory for the redis core. The core is portable C that runs in the guest
 * (freestanding, no libc) and in host tests, so it never calls malloc: the
 * embedder defines these three functions. The guest's are in galloc.c (a
 * size-class allocator over the guest heap), the host tests' wrap libc and
 * can be told to fail, which is how out-of-memory paths are tested.
 *
 * Contract: rd_malloc/rd_realloc return NULL on failure and leave the old
 * block intact (like realloc); rd_free(NULL) is a no-op. Alignment is at
 * least 16 bytes.
 */
#ifndef FTGUEST_REDIS_RD_ALLOC_H_
#define FTGUEST_REDIS_RD_ALLOC_H_

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void* rd_malloc(size_t size);
void* rd_realloc(void* ptr, size_t size);
void rd_free(void* ptr);

/* Bytes currently allocated (requested sizes), for INFO's used_memory. */
size_t rd_used_memory(void);

#ifdef __cplusplus
}
#endif

#endif /* FTGUEST_REDIS_RD_ALLOC_H_ */
