/*
 * pio: back-to-back port-I/O round trips (UART scratch register, write then
 * read back). Benchmarks the cost of one exit pair in a VMM, and checks the
 * device model's register semantics on the way.
 */
#include "lib/pio.h"
#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "lib/pit.h"
#include "workloads/workload.h"

/* PIT poll interval in round trips: 64 round trips is ~9 ms at 70 us per
 * exit, so the ~55 ms PIT wrap is never missed unless exits get 6x slower;
 * the 3 poll exits add ~2% to the measured time. */
#define POLL_EVERY 64

static const struct ftg_param_spec params[] = {
    {"count", FTG_PIO_COUNT_DEFAULT, FTG_PIO_COUNT_MIN, FTG_PIO_COUNT_MAX},
};

static struct ftg_outcome run(const uint64_t* values) {
  uint64_t count = values[0];
  uint64_t h = FTG_FNV_OFFSET;
  uint64_t start = ftg_clock_ticks();
  for (uint64_t k = 0; k < count; k++) {
    uint8_t want = ftg_pio_value(k);
    ftg_outb(FTG_PORT_COM1_SCRATCH, want);
    uint8_t got = ftg_inb(FTG_PORT_COM1_SCRATCH);
    if (got != want) {
      ftg_printf("ftguest: pio round trip %lu wrote 0x%02x read 0x%02x\n", k,
                 want, got);
      struct ftg_outcome o = {h, "pio-mismatch", FTG_EXIT_FAIL};
      return o;
    }
    h = (h ^ got) * FTG_FNV_PRIME;
    if (k % POLL_EVERY == POLL_EVERY - 1) ftg_clock_ticks();
  }
  uint64_t us = ftg_ticks_to_us(ftg_clock_ticks() - start);
  ftg_printf("ftguest: pio count=%lu elapsed_us=%lu ns_per_round_trip=%lu\n",
             count, us, us * 1000 / count);
  return ftg_ok(h);
}

const struct ftg_workload ftg_workload_pio = {
    "pio", params, sizeof(params) / sizeof(params[0]), run};
