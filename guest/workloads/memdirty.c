/*
 * memdirty: dirties pages at a steady rate, the load that live migration,
 * micro-checkpoints and dirty logging are measured with. The number and
 * order of writes is fixed by the parameters; only their timing follows the
 * PIT, so the final memory (and the result) never depends on timing.
 */
#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "lib/pio.h"
#include "lib/pit.h"
#include "workloads/workload.h"

/* Idle spin between PIT polls when no write is due: keeps a waiting guest
 * from turning into a stream of PIT exits (each poll is 3 exits). A few tens
 * of microseconds; pacing stays accurate to well under a millisecond. */
#define IDLE_SPIN 1024

enum { P_MIB, P_RATE, P_SECONDS };

static const struct ftg_param_spec params[] = {
    {"mib", FTG_MEMDIRTY_MIB_DEFAULT, FTG_MEMDIRTY_MIB_MIN,
     FTG_MEMDIRTY_MIB_MAX},
    {"rate", FTG_MEMDIRTY_RATE_DEFAULT, FTG_MEMDIRTY_RATE_MIN,
     FTG_MEMDIRTY_RATE_MAX},
    {"seconds", FTG_MEMDIRTY_SECONDS_DEFAULT, FTG_MEMDIRTY_SECONDS_MIN,
     FTG_MEMDIRTY_SECONDS_MAX},
};

static void fill(uint64_t* ws, uint64_t words) {
  for (uint64_t j = 0; j < words; j += FTG_WORDS_PER_MIB) {
    for (uint64_t k = j; k < j + FTG_WORDS_PER_MIB; k++)
      ws[k] = ftg_memdirty_init_word(k);
    ftg_clock_ticks(); /* keep the clock from missing a wrap */
  }
}

static struct ftg_outcome run(const uint64_t* values) {
  uint64_t mib = values[P_MIB], rate = values[P_RATE],
           seconds = values[P_SECONDS];
  uint64_t* ws = ftg_alloc_mib("memdirty", mib);
  if (ws == NULL) return ftg_bad_param();
  uint64_t words = mib * FTG_WORDS_PER_MIB;
  uint64_t pages = words / FTG_WORDS_PER_PAGE;
  uint64_t total = rate * seconds; /* both bounded: no overflow */
  fill(ws, words);

  uint64_t done = 0, page = 0, pass = 0;
  uint64_t next_report = 1; /* in seconds */
  uint64_t start = ftg_clock_ticks();
  for (;;) {
    uint64_t now = ftg_clock_ticks() - start;
    /* Write k is due at k / rate seconds. now * rate < 2^64 for the bounds
     * in reference.h (86400 s * 1e7 pages/s * 1.2e6 ticks/s ~ 1e18). */
    uint64_t due = now * rate / FTG_PIT_HZ + 1;
    if (due > total) due = total;
    for (; done < due; done++) {
      ws[page * FTG_WORDS_PER_PAGE] = ftg_memdirty_value(page, pass);
      if (++page == pages) {
        page = 0;
        pass++;
      }
    }
    while (next_report <= seconds && now >= next_report * FTG_PIT_HZ) {
      ftg_printf("ftguest: memdirty t=%lus pages=%lu\n", next_report, done);
      next_report++;
    }
    if (next_report > seconds && done == total) break;
    for (int i = 0; i < IDLE_SPIN; i++) ftg_pause();
  }
  uint64_t elapsed = ftg_clock_ticks() - start;

  uint64_t h = FTG_FNV_OFFSET;
  for (uint64_t j = 0; j < words; j++) h = ftg_hash_word(h, ws[j]);
  ftg_printf(
      "ftguest: memdirty mib=%lu rate=%lu seconds=%lu pages=%lu "
      "elapsed_us=%lu\n",
      mib, rate, seconds, total, ftg_ticks_to_us(elapsed));
  return ftg_ok(h);
}

const struct ftg_workload ftg_workload_memdirty = {
    "memdirty", params, sizeof(params) / sizeof(params[0]), run};
