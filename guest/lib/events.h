/*
 * The guest's event loop: interrupts are noted at CPL0 (a bit per 8259
 * line in ftg_irq_pending) and handled here, at CPL3, by the driver that
 * registered the line. Everything that waits (timers, block requests, and
 * next the network stack) is written as
 *
 *     while (!done) { ftg_events_poll(); if (!done) ftg_events_idle(); }
 *
 * so the vCPU halts whenever there is nothing to do, and no handler ever
 * runs inside another one or at CPL0.
 */
#ifndef FTGUEST_LIB_EVENTS_H_
#define FTGUEST_LIB_EVENTS_H_

#include <stdbool.h>
#include <stdint.h>

typedef void (*ftg_irq_handler)(void* ctx);

/* Programs the PIC (all lines masked) and enables interrupts at CPL3. */
void ftg_events_init(void);

/* Routes line irq (0-15) to fn(ctx) and unmasks it. One handler per line:
 * false if irq is out of range or taken. */
bool ftg_irq_register(unsigned irq, ftg_irq_handler fn, void* ctx);

/* Runs the handler of every line that interrupted since the last call (in
 * line order, each at most once per call however often it fired). Returns
 * false if nothing was pending. No exits unless a handler makes some. */
bool ftg_events_poll(void);

/* Marks line irq (0-15) pending as if it had interrupted: the next
 * ftg_events_idle returns at once and the next ftg_events_poll runs its
 * handler. For a driver that has work left over (e.g. received frames
 * beyond a poll's budget) and would otherwise wait for an interrupt the
 * device will not send. */
void ftg_events_raise(unsigned irq);

/* Halts until the next interrupt, or returns at once if one is pending. */
void ftg_events_idle(void);

/* Counters for workload reports (never reset). */
struct ftg_event_stats {
  uint64_t dispatched[16]; /* handler runs per line */
  uint64_t unhandled;      /* bits with no handler (spurious IRQ 7/15...) */
  uint64_t idles;          /* ftg_events_idle calls */
};
const struct ftg_event_stats* ftg_event_stats(void);

#endif /* FTGUEST_LIB_EVENTS_H_ */
