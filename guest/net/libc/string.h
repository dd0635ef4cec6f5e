/*
 * <string.h> for code built into the freestanding guest (lwIP, the redis
 * core), which include the standard header. Put first on the include path
 * of the guest build so no hosted libc header is ever used (their inline
 * fortify wrappers would call functions the guest lacks).
 *
 * memcpy, memmove, memset, memcmp and strlen live in guest/lib/string.c;
 * the rest in guest/net/port/libc_extra.c.
 */
#ifndef FTGUEST_NET_LIBC_STRING_H_
#define FTGUEST_NET_LIBC_STRING_H_

#include <stddef.h>

void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
void* memchr(const void* s, int c, size_t n);
size_t strlen(const char* s);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, size_t n);

#endif /* FTGUEST_NET_LIBC_STRING_H_ */
