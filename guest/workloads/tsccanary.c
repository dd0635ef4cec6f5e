/*
 * tsccanary: the one deliberate breach of the guest's determinism rule, for
 * the replay engine's divergence test. It reads the TSC (which a KVM user
 * space cannot trap, so a replay cannot reproduce it) once, mixes it into 64
 * bits (splitmix64's finalizer) and makes one exit per bit: a set bit
 * reads port 0x61 (the PIT's port B, whose refresh bit comes from the host
 * clock, so the read is logged with its position), a clear bit writes an
 * unclaimed port (not logged). A recorded run and its replay then differ
 * at the first differing bit (unless their TSC values collide in all 64
 * mixed bits), at a position the log has an entry for, and the replay must
 * report a divergence there instead of going on silently. Every bit is an
 * exit, so no micro-checkpoint (which would carry the recorded registers
 * over and let the replay rejoin the recorded run) can fall between the
 * read and the first differing exit, except in the few nanoseconds of
 * guest code between two exits.
 * (One mixed read, not 64 raw ones: the loop's timing is regular enough
 * that the raw reads' bits can repeat the same pattern from run to run.)
 *
 * With disk_seconds=N (N > 0), the guest then runs the disk workload for N
 * seconds (1 MiB, 200 writes/s, each read back): a replay that diverged at
 * the canary and was resynchronised from a full checkpoint must replay that
 * part, timers, halts, interrupts and disk I/O, exactly (the FT pair's
 * resync test).
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

#define PIT_PORT_B 0x61
#define POST_PORT 0x80 /* no device: a write there is ignored */

__attribute__((noinline)) uint64_t ftg_tsc_canary_read(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

static const struct ftg_param_spec params[] = {
    {"disk_seconds", 0, 0, 60},
};

static struct ftg_outcome run(const uint64_t* values) {
  const uint64_t disk_seconds = values[0];
  uint64_t h = ftg_tsc_canary_read();
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  uint64_t writes = 0;
  for (int i = 0; i < 64; ++i) {
    if ((h >> i) & 1) {
      (void)ftg_inb(PIT_PORT_B);
      ++writes;
    } else {
      ftg_outb(POST_PORT, (uint8_t)i);
    }
  }
  ftg_printf("ftguest: tsccanary writes=%lu\n", writes);
  if (disk_seconds > 0) {
    const uint64_t disk[] = {1, FTG_DISK_RATE_DEFAULT, disk_seconds,
                             FTG_DISK_FLUSH_DEFAULT};
    struct ftg_outcome o = ftg_workload_disk.run(disk);
    if (o.fail_reason != NULL) return o;
  }
  /* The result is deliberately not reproducible. */
  return ftg_ok(writes);
}

const struct ftg_workload ftg_workload_tsccanary = {
    "tsccanary", params, sizeof(params) / sizeof(params[0]), run};
