/*
 * Host stand-ins for the guest/lib functions guest/net and guest/redis
 * call, so lwIP, the netif glue and the redis server can run as a host
 * process (lwip_tap_server.c). Same signatures as guest/lib.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ftguest/reference.h"
#include "lib/cmdline.h"
#include "lib/fmt.h"
#include "lib/heap.h"
#include "lib/pit.h"
#include "lib/power.h"

/* The guest clock: PIT ticks, here from CLOCK_MONOTONIC. */
uint64_t ftg_clock_last(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * FTG_PIT_HZ +
         (uint64_t)t.tv_nsec * FTG_PIT_HZ / 1000000000u;
}

uint64_t ftg_ticks_to_us(uint64_t ticks) {
  return ticks / FTG_PIT_HZ * 1000000 +
         ticks % FTG_PIT_HZ * 1000000 / FTG_PIT_HZ;
}

void ftg_printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fflush(stdout);
}

size_t ftg_snprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n < 0 ? 0 : (size_t)n;
}

/* Page-aligned and never freed, like the guest's bump heap; filled with
 * garbage so code relying on zeroed memory fails here too. */
void* ftg_heap_alloc(uint64_t size) {
  uint64_t rounded = (size + 4095) & ~(uint64_t)4095;
  void* p = aligned_alloc(4096, rounded);
  if (p != NULL) memset(p, 0xa5, rounded);
  return p;
}

void ftg_finish(const char* workload, uint64_t result, const char* reason,
                uint32_t exit_code) {
  printf("ftguest: workload=%s result=%016llx status=%s%s\n", workload,
         (unsigned long long)result, reason ? "fail reason=" : "ok",
         reason ? reason : "");
  exit((int)exit_code);
}

bool ftg_cmdline_get(const char* cmdline, const char* key,
                     struct ftg_str* value) {
  size_t kl = strlen(key);
  bool found = false;
  for (const char* p = cmdline; *p;) {
    while (*p == ' ') p++;
    const char* t = p;
    while (*p && *p != ' ') p++;
    size_t tl = (size_t)(p - t);
    if (tl > kl && memcmp(t, key, kl) == 0 && t[kl] == '=') {
      value->ptr = t + kl + 1;
      value->len = tl - kl - 1;
      found = true; /* the last one wins, as in the guest */
    }
  }
  return found;
}

bool ftg_parse_u64(struct ftg_str s, uint64_t* out) {
  uint64_t v = 0;
  if (s.len == 0) return false;
  for (size_t i = 0; i < s.len; i++) {
    if (s.ptr[i] < '0' || s.ptr[i] > '9') return false;
    v = v * 10 + (uint64_t)(s.ptr[i] - '0');
  }
  *out = v;
  return true;
}
