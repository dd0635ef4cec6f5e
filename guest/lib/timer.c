/* One-shot timer service, see timer.h. */
#include "lib/timer.h"

#include <stddef.h>

#include "ftguest/reference.h"
#include "lib/events.h"
#include "lib/pit.h"

#define IRQ_PIT 0
#define LOST_SHOT_TICKS (FTG_PIT_HZ / 2) /* 0.5 s */

static struct ftg_timer* head; /* sorted by deadline, earliest first */
/* When the shot in flight fires (lower bound: the count was computed from
 * a clock value read before the port writes). Valid if hw_armed. */
static uint64_t hw_deadline;
static bool hw_armed;
static struct ftg_timer_stats stats;

/* Makes sure the hardware fires no later than the head's deadline. */
static void arm_for_head(uint64_t now) {
  if (head == NULL) return; /* nothing to wait for: no tick */
  uint64_t want = head->deadline;
  /* An earlier shot is already coming: it re-arms when it fires. Unless it
   * is long overdue: then its interrupt was lost (a VMM bug, but a stuck
   * timer service would hide it behind a hang), so arm again. */
  if (hw_armed && hw_deadline <= want && now < hw_deadline + LOST_SHOT_TICKS)
    return;
  uint64_t delta = want > now ? want - now : 1;
  if (delta > FTG_PIT_ONESHOT_MAX_TICKS) delta = FTG_PIT_ONESHOT_MAX_TICKS;
  ftg_pit_oneshot((uint32_t)delta);
  hw_armed = true;
  hw_deadline = now + delta;
  stats.arms++;
}

static void unlink(struct ftg_timer* t) {
  for (struct ftg_timer** p = &head; *p != NULL; p = &(*p)->next) {
    if (*p == t) {
      *p = t->next;
      break;
    }
  }
  t->pending = false;
  t->next = NULL;
}

static void on_irq0(void* ctx) {
  (void)ctx;
  stats.interrupts++;
  hw_armed = false; /* mode 0 fires once; a spurious edge is harmless */
  uint64_t now = ftg_clock_ticks();
  while (head != NULL && head->deadline <= now) {
    struct ftg_timer* t = head;
    unlink(t);
    stats.fired++;
    t->fn(t); /* may start timers: they go into the list, armed below */
  }
  arm_for_head(now);
}

void ftg_timer_init(void) { ftg_irq_register(IRQ_PIT, on_irq0, NULL); }

void ftg_timer_start(struct ftg_timer* t, uint64_t deadline, ftg_timer_fn fn,
                     void* ctx) {
  if (t->pending) unlink(t);
  t->deadline = deadline;
  t->fn = fn;
  t->ctx = ctx;
  t->pending = true;
  struct ftg_timer** p = &head;
  while (*p != NULL && (*p)->deadline <= deadline) p = &(*p)->next;
  t->next = *p;
  *p = t;
  arm_for_head(ftg_clock_last());
}

void ftg_timer_cancel(struct ftg_timer* t) {
  if (t->pending) unlink(t);
}

static void wake(struct ftg_timer* t) { *(volatile bool*)t->ctx = true; }

void ftg_sleep_until(uint64_t deadline) {
  if (ftg_clock_ticks() >= deadline) return;
  volatile bool done = false;
  struct ftg_timer t = {0};
  ftg_timer_start(&t, deadline, wake, (void*)&done);
  while (!done) {
    ftg_events_poll();
    if (!done) ftg_events_idle();
  }
}

const struct ftg_timer_stats* ftg_timer_stats(void) { return &stats; }
