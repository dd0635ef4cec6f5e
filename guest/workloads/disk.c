/*
 * disk: writes a pattern over the first `mib` MiB of the virtio-blk disk at
 * `rate` 4 KiB block writes per second for `seconds`, reading each block
 * back before overwriting it (it must hold the previous pass), flushing
 * after every `flush` writes, and finally reading back and checking every
 * written block. The sequence of writes and their contents are fixed by the
 * parameters (see ftg_ref_disk in reference.h); only their timing follows
 * the clock, so the result never depends on timing. The load for failover
 * tests of disk I/O: after a failover the reads must still see every write
 * the guest saw complete.
 */
#include "drivers/virtio_blk.h"
#include "ftguest/reference.h"
#include "lib/events.h"
#include "lib/fmt.h"
#include "lib/heap.h"
#include "lib/pit.h"
#include "lib/string.h"
#include "lib/timer.h"
#include "workloads/workload.h"

enum { P_MIB, P_RATE, P_SECONDS, P_FLUSH };

static const struct ftg_param_spec params[] = {
    {"mib", FTG_DISK_MIB_DEFAULT, FTG_DISK_MIB_MIN, FTG_DISK_MIB_MAX},
    {"rate", FTG_DISK_RATE_DEFAULT, FTG_DISK_RATE_MIN, FTG_DISK_RATE_MAX},
    {"seconds", FTG_DISK_SECONDS_DEFAULT, FTG_DISK_SECONDS_MIN,
     FTG_DISK_SECONDS_MAX},
    {"flush", FTG_DISK_FLUSH_DEFAULT, FTG_DISK_FLUSH_MIN, FTG_DISK_FLUSH_MAX},
};

struct counts {
  uint64_t writes, reads, flushes;
};

static struct ftg_outcome fail(const char* reason) {
  struct ftg_outcome o = {0, reason, FTG_EXIT_FAIL};
  return o;
}

/* Maps a driver error to the final line's reason. */
static struct ftg_outcome io_fail(const char* what, uint64_t block,
                                  enum ftg_vblk_result r) {
  ftg_printf("ftguest: disk: %s of block %lu failed: %s\n", what, block,
             ftg_vblk_result_name(r));
  return fail(r == FTG_VBLK_TIMEOUT ? "disk-timeout" : "disk-error");
}

/* Reads block i into buf and compares it with pass p's pattern in want. */
static struct ftg_outcome check_block(uint64_t i, uint64_t p, uint64_t* buf,
                                      uint64_t* want, struct counts* c,
                                      bool* ok) {
  *ok = false;
  enum ftg_vblk_result r =
      ftg_vblk_read(i * FTG_DISK_SECTORS_PER_BLOCK, buf, FTG_DISK_BLOCK_SIZE);
  c->reads++;
  if (r != FTG_VBLK_OK) return io_fail("read", i, r);
  ftg_disk_fill_block(want, i, p);
  for (uint32_t j = 0; j < FTG_DISK_WORDS_PER_BLOCK; j++) {
    if (buf[j] != want[j]) {
      ftg_printf(
          "ftguest: disk: block %lu word %u is 0x%016lx, pass %lu "
          "wrote 0x%016lx\n",
          i, j, buf[j], p, want[j]);
      return fail("disk-mismatch");
    }
  }
  *ok = true;
  return ftg_ok(0);
}

static struct ftg_outcome run(const uint64_t* values) {
  uint64_t mib = values[P_MIB], rate = values[P_RATE],
           seconds = values[P_SECONDS], flush = values[P_FLUSH];
  if (!ftg_vblk_open(ftg_boot_cmdline)) return fail("no-disk");
  const struct ftg_vblk_info* info = ftg_vblk_info();
  uint64_t blocks = mib * (FTG_MIB / FTG_DISK_BLOCK_SIZE);
  if (info->sectors / FTG_DISK_SECTORS_PER_BLOCK < blocks) {
    ftg_printf("ftguest: disk: mib=%lu does not fit the disk's %lu sectors\n",
               mib, info->sectors);
    return ftg_bad_param();
  }
  if (info->read_only) return fail("disk-read-only");
  uint64_t* wbuf = ftg_heap_alloc(FTG_DISK_BLOCK_SIZE);
  uint64_t* rbuf = ftg_heap_alloc(FTG_DISK_BLOCK_SIZE);
  uint64_t* want = ftg_heap_alloc(FTG_DISK_BLOCK_SIZE);
  if (wbuf == NULL || rbuf == NULL || want == NULL) return ftg_bad_param();

  uint64_t total = rate * seconds; /* both bounded: no overflow */
  struct counts c = {0, 0, 0};
  struct ftg_outcome o;
  bool ok;
  uint64_t next_report = 1; /* in seconds */
  uint64_t start = ftg_clock_ticks();
  for (uint64_t k = 0; k < total; k++) {
    /* Write k is due at k / rate seconds; sleep (halted) if early. A clock
     * read is 3 exits, as much as the I/O: when the last reading already
     * says we are behind, trust it for up to 7 writes (a lost clock wrap
     * would only slow the pacing, never change what is written). */
    uint64_t due = start + k * FTG_PIT_HZ / rate;
    if (ftg_clock_last() < due || k % 8 == 0) ftg_sleep_until(due);
    uint64_t now = ftg_clock_last() - start;
    while (next_report <= seconds && now >= next_report * FTG_PIT_HZ) {
      ftg_printf("ftguest: disk t=%lus writes=%lu\n", next_report, k);
      next_report++;
    }
    uint64_t i = k % blocks, p = k / blocks;
    if (p > 0) {
      o = check_block(i, p - 1, rbuf, want, &c, &ok);
      if (!ok) return o;
    }
    ftg_disk_fill_block(wbuf, i, p);
    enum ftg_vblk_result r = ftg_vblk_write(i * FTG_DISK_SECTORS_PER_BLOCK,
                                            wbuf, FTG_DISK_BLOCK_SIZE);
    c.writes++;
    if (r != FTG_VBLK_OK) return io_fail("write", i, r);
    if (flush != 0 && (k + 1) % flush == 0) {
      r = ftg_vblk_flush();
      c.flushes++;
      if (r != FTG_VBLK_OK) return io_fail("flush", i, r);
    }
  }
  uint64_t write_ticks = ftg_clock_ticks() - start;

  /* Everything written is read back; the hash covers what was read. */
  uint64_t h = FTG_FNV_OFFSET;
  for (uint64_t i = 0; i < blocks && i < total; i++) {
    o = check_block(i, (uint64_t)ftg_disk_final_pass(i, blocks, total), rbuf,
                    want, &c, &ok);
    if (!ok) return o;
    for (uint32_t j = 0; j < FTG_DISK_WORDS_PER_BLOCK; j++)
      h = ftg_hash_word(h, rbuf[j]);
  }
  uint64_t elapsed = ftg_clock_ticks() - start;
  const struct ftg_vblk_stats* s = ftg_vblk_stats();
  ftg_printf(
      "ftguest: disk mib=%lu rate=%lu seconds=%lu flush=%lu "
      "writes=%lu reads=%lu flushes=%lu write_us=%lu elapsed_us=%lu\n",
      mib, rate, seconds, flush, c.writes, c.reads, c.flushes,
      ftg_ticks_to_us(write_ticks), ftg_ticks_to_us(elapsed));
  ftg_printf(
      "ftguest: disk requests=%lu notifies=%lu interrupts=%lu "
      "spun=%lu slept=%lu timer_irqs=%lu\n",
      s->requests, s->notifies, s->interrupts, s->spun, s->slept,
      ftg_timer_stats()->interrupts);
  return ftg_ok(h);
}

const struct ftg_workload ftg_workload_disk = {
    "disk", params, sizeof(params) / sizeof(params[0]), run};
