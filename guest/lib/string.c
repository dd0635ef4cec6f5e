/*
 * memcpy/memset & co. gcc emits calls to these even with -ffreestanding
 * (struct copies, zeroing loops), so they must exist. `rep movsb/stosb` is
 * short and fast on every CPU with ERMS, and being inline asm it cannot be
 * turned back into a call to itself by the optimizer.
 */
#include "lib/string.h"

void* memcpy(void* dst, const void* src, size_t n) {
  void* d = dst;
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
  unsigned char* d = dst;
  const unsigned char* s = src;
  if (d <= s || d >= s + n) return memcpy(dst, src, n);
  /* Overlap with dst above src: copy backwards. */
  while (n--) d[n] = s[n];
  return dst;
}

void* memset(void* dst, int c, size_t n) {
  void* d = dst;
  __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
  const unsigned char* x = a;
  const unsigned char* y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

bool ftg_str_eq(const char* s, size_t n, const char* lit) {
  size_t m = strlen(lit);
  return m == n && memcmp(s, lit, n) == 0;
}
