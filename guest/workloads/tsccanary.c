/*
 * tsccanary: the one deliberate breach of the guest's determinism rule, for
 * the replay engine's divergence test. It reads the TSC (which a KVM user
 * space cannot trap, so a replay cannot reproduce it) once, mixes it into 64
 * bits (splitmix64's finalizer) and makes an extra port write for each set
 * bit: a recorded run and its replay then take different exits (unless
 * their TSC values collide in all 64 mixed bits), and the replay must
 * report a divergence at a named position instead of going on silently.
 * (One mixed read, not 64 raw ones: the loop's timing is regular enough
 * that the raw reads' bits can repeat the same pattern from run to run.)
 *
 * Only ftg_tsc_canary_read may contain RDTSC
 * (tests/guest/check_forbidden_insns.py allows it and nothing else), and
 * no other workload calls it.
 */
#include <stdint.h>

#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "lib/pio.h"
#include "workloads/workload.h"

#define UART_SCRATCH 0x3ff

__attribute__((noinline)) uint64_t ftg_tsc_canary_read(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static struct ftg_outcome run(const uint64_t* values) {
  (void)values;
  uint64_t h = ftg_tsc_canary_read();
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  uint64_t writes = 0;
  for (int i = 0; i < 64; ++i) {
    if ((h >> i) & 1) {
      ftg_outb(UART_SCRATCH, (uint8_t)i);
      ++writes;
    }
  }
  ftg_printf("ftguest: tsccanary writes=%lu\n", writes);
  /* The result is deliberately not reproducible. */
  return ftg_ok(writes);
}

const struct ftg_workload ftg_workload_tsccanary = {"tsccanary", NULL, 0, run};
