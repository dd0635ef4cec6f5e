/*
 * One-shot software timers on the PIT's channel 0 (IRQ 0).
 *
 * Pending timers sit in a list sorted by deadline (few timers exist at once;
 * a wheel would only pay off with hundreds). The hardware is armed for the
 * earliest one, at most FTG_PIT_ONESHOT_MAX_TICKS ahead (longer waits take
 * one intermediate interrupt per 50 ms, which also keeps the clock from
 * missing a wrap). With no timer pending nothing is armed: an idle or
 * CPU-bound guest takes no timer interrupts.
 *
 * Callbacks run from ftg_events_poll() at CPL3, in deadline order, never
 * early: a timer fires when the clock read after its interrupt has reached
 * its deadline. They may start or cancel timers.
 */
#ifndef FTGUEST_LIB_TIMER_H_
#define FTGUEST_LIB_TIMER_H_

#include <stdbool.h>
#include <stdint.h>

struct ftg_timer;
typedef void (*ftg_timer_fn)(struct ftg_timer* t);

struct ftg_timer {
  uint64_t deadline; /* in clock ticks (ftg_clock_ticks) */
  ftg_timer_fn fn;
  void* ctx;              /* for the callback's use */
  struct ftg_timer* next; /* private */
  bool pending;           /* private: in the list */
};

/* Registers IRQ 0. After ftg_events_init and ftg_clock_init. */
void ftg_timer_init(void);

/* (Re)starts t to fire at deadline. Costs no exits if the hardware is
 * already armed early enough, else 2. The remaining time is computed from
 * the last clock value read (ftg_clock_last), so callers that need
 * precision read the clock first; a stale value only makes the timer late. */
void ftg_timer_start(struct ftg_timer* t, uint64_t deadline, ftg_timer_fn fn,
                     void* ctx);

/* Removes t if pending. No exits (the hardware may still fire once). */
void ftg_timer_cancel(struct ftg_timer* t);

/* Runs the event loop (other handlers included) until the clock reaches
 * deadline, idling in between. Returns at once if it already has. */
void ftg_sleep_until(uint64_t deadline);

struct ftg_timer_stats {
  uint64_t arms;       /* hardware one-shots programmed */
  uint64_t interrupts; /* IRQ 0 handled */
  uint64_t fired;      /* callbacks run */
};
const struct ftg_timer_stats* ftg_timer_stats(void);

#endif /* FTGUEST_LIB_TIMER_H_ */
