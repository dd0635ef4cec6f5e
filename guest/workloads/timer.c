/*
 * timer: `count` one-shot timer expiries `ms` apart (expiry k due k*ms ms
 * after the start, so lateness never accumulates). Proves interrupts, the
 * one-shot PIT, the timer service and idling work: odd expiries are waited
 * for by halting (the #GP idle path), even ones by spinning at CPL3 on the
 * pending-interrupt word, which shows interrupts arrive at CPL3 code too.
 * The result hashes the sequence numbers in firing order; timing is only
 * reported (and checked: never early).
 */
#include "lib/timer.h"
#include "arch/cpu.h"
#include "ftguest/reference.h"
#include "lib/events.h"
#include "lib/fmt.h"
#include "lib/pio.h"
#include "lib/pit.h"
#include "workloads/workload.h"

/* A spinning wait reads the clock this often (pause iterations) so that a
 * lost interrupt becomes a failure, not a hang. */
#define SPIN_CLOCK_EVERY 20000
#define LOST_AFTER_TICKS (2 * FTG_PIT_HZ)

enum { P_COUNT, P_MS };

static const struct ftg_param_spec params[] = {
    {"count", FTG_TIMER_COUNT_DEFAULT, FTG_TIMER_COUNT_MIN,
     FTG_TIMER_COUNT_MAX},
    {"ms", FTG_TIMER_MS_DEFAULT, FTG_TIMER_MS_MIN, FTG_TIMER_MS_MAX},
};

struct state {
  uint64_t fired_seq; /* sequence number of the last expiry, 0: none yet */
  uint64_t fired_at;  /* clock when it ran */
};

static void on_expiry(struct ftg_timer* t) {
  struct state* st = t->ctx;
  st->fired_seq++;
  st->fired_at = ftg_clock_last();
}

static struct ftg_outcome fail(const char* reason) {
  struct ftg_outcome o = {0, reason, FTG_EXIT_FAIL};
  return o;
}

static struct ftg_outcome run(const uint64_t* values) {
  uint64_t count = values[P_COUNT], ms = values[P_MS];
  struct state st = {0, 0};
  struct ftg_timer timer = {0};
  uint64_t h = FTG_FNV_OFFSET;
  /* Lateness, [0] for halted waits, [1] for spinning ones. */
  uint64_t late_max = 0, late_sum[2] = {0, 0}, spin_wakeups = 0;
  uint64_t start = ftg_clock_ticks();
  for (uint64_t k = 1; k <= count; k++) {
    uint64_t deadline = start + ftg_ms_to_ticks(k * ms);
    ftg_timer_start(&timer, deadline, on_expiry, &st);
    if (k % 2 == 1) {
      while (st.fired_seq != k) {
        ftg_events_poll();
        if (st.fired_seq != k) ftg_events_idle();
      }
    } else {
      /* Nothing here exits or traps: only an interrupt taken at CPL3 can
       * set the pending word this loop is watching. */
      for (uint64_t i = 1; st.fired_seq != k; i++) {
        if (ftg_irq_pending != 0) {
          spin_wakeups++;
          ftg_events_poll();
        }
        ftg_pause();
        if (i % SPIN_CLOCK_EVERY == 0 &&
            ftg_clock_ticks() > deadline + LOST_AFTER_TICKS) {
          ftg_printf(
              "ftguest: timer %lu: no interrupt 2 s after its "
              "deadline\n",
              k);
          return fail("timer-lost");
        }
      }
    }
    if (st.fired_at < deadline) {
      ftg_printf(
          "ftguest: timer %lu fired at tick %lu, before its deadline "
          "%lu\n",
          k, st.fired_at - start, deadline - start);
      return fail("timer-early");
    }
    uint64_t late = st.fired_at - deadline;
    late_sum[k % 2 == 0] += late;
    if (late > late_max) late_max = late;
    h = ftg_hash_word(h, ftg_timer_seq_word(ms, st.fired_seq));
  }
  uint64_t elapsed = ftg_clock_ticks() - start;
  const struct ftg_timer_stats* ts = ftg_timer_stats();
  uint64_t halted = (count + 1) / 2, spun = count / 2;
  ftg_printf(
      "ftguest: timer count=%lu ms=%lu elapsed_us=%lu late_us_max=%lu "
      "late_us_avg_halted=%lu late_us_avg_spinning=%lu irqs=%lu arms=%lu "
      "idles=%lu spin_wakeups=%lu\n",
      count, ms, ftg_ticks_to_us(elapsed), ftg_ticks_to_us(late_max),
      ftg_ticks_to_us(late_sum[0] / halted),
      spun ? ftg_ticks_to_us(late_sum[1] / spun) : 0, ts->interrupts, ts->arms,
      ftg_event_stats()->idles, spin_wakeups);
  if (count >= 2 && spin_wakeups == 0) return fail("no-cpl3-interrupt");
  return ftg_ok(h);
}

const struct ftg_workload ftg_workload_timer = {
    "timer", params, sizeof(params) / sizeof(params[0]), run};
