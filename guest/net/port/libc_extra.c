/*
 * The libc functions lwIP and the redis core use beyond guest/lib/string.c.
 * Weak, so that if guest/lib grows its own versions, those win and the link
 * still succeeds.
 */
#include <stdlib.h>
#include <string.h>

__attribute__((weak)) void* memchr(const void* s, int c, size_t n) {
  const unsigned char* p = s;
  for (size_t i = 0; i < n; i++)
    if (p[i] == (unsigned char)c) return (void*)(p + i);
  return NULL;
}

__attribute__((weak)) int strncmp(const char* a, const char* b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x != y) return x < y ? -1 : 1;
    if (x == 0) return 0;
  }
  return 0;
}

__attribute__((weak)) int strcmp(const char* a, const char* b) {
  return strncmp(a, b, (size_t)-1);
}

__attribute__((weak)) int atoi(const char* s) {
  int sign = 1, v = 0;
  while (*s == ' ' || (*s >= '\t' && *s <= '\r')) s++;
  if (*s == '-' || *s == '+') sign = *s++ == '-' ? -1 : 1;
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  return sign * v;
}
