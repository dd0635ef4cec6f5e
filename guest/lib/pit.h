/*
 * The 8254 PIT: the guest's only clock (channel 1) and its one-shot timer
 * interrupt (channel 0, IRQ 0).
 *
 * Record/replay needs every time read to be a device read the VMM can log,
 * so the guest never executes RDTSC/RDTSCP (tests/guest checks the binary).
 *
 * Clock: channel 1 free-runs (mode 2, reload 65536; its gate is always high
 * and its output unconnected), read with a latch command. It is separate
 * from the timer so that re-arming the timer never disturbs time. The
 * counter wraps every 65536 ticks (~54.9 ms): ftg_clock_ticks() must run at
 * least every ~50 ms or time is lost (never gained). Busy workloads poll it;
 * while a timer is pending the timer service (lib/timer.c) wakes at least
 * every 50 ms and reads it; with nothing pending an idle guest takes no
 * interrupts at all, and the clock may lose the idle time.
 *
 * Timer: channel 0 in mode 0 (interrupt on terminal count): writing a count
 * N (2 port writes) raises IRQ 0 once, N ticks later. No periodic tick.
 */
#ifndef FTGUEST_LIB_PIT_H_
#define FTGUEST_LIB_PIT_H_

#include <stdint.h>

/* Longest one-shot: 50 ms, leaving ~5 ms of the clock's 54.9 ms wrap for
 * the interrupt to be taken and the clock read. */
#define FTG_PIT_ONESHOT_MAX_TICKS 59659u

/* Programs channel 1 (clock) and puts channel 0 in mode 0, idle. */
void ftg_clock_init(void);

/* Ticks of FTG_PIT_HZ since ftg_clock_init (3 port accesses). */
uint64_t ftg_clock_ticks(void);

/* The value the last ftg_clock_ticks() returned (no exits). */
uint64_t ftg_clock_last(void);

uint64_t ftg_ticks_to_us(uint64_t ticks);
uint64_t ftg_ms_to_ticks(uint64_t ms);

/* Raises IRQ 0 once, ticks (1..65535) from now (2 port writes). Replaces a
 * shot still in flight. */
void ftg_pit_oneshot(uint32_t ticks);

#endif /* FTGUEST_LIB_PIT_H_ */
