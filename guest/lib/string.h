/* The few libc string functions the guest (and gcc's code generation) needs. */
#ifndef FTGUEST_LIB_STRING_H_
#define FTGUEST_LIB_STRING_H_

#include <stdbool.h>
#include <stddef.h>

void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);

/* True if the n bytes at s equal the NUL-terminated string lit. */
bool ftg_str_eq(const char* s, size_t n, const char* lit);

#endif /* FTGUEST_LIB_STRING_H_ */
