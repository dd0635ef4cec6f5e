/*
 * Time from the 8254 PIT channel 0, the guest's only clock.
 *
 * Record/replay needs every time read to be a device read the VMM can log,
 * so the guest never executes RDTSC/RDTSCP (tests/guest checks the binary).
 * The counter wraps every 65536 ticks (~54.9 ms): call ftg_clock_ticks() at
 * least every ~50 ms or time is lost (never gained).
 */
#ifndef FTGUEST_LIB_PIT_H_
#define FTGUEST_LIB_PIT_H_

#include <stdint.h>

/* Programs channel 0: mode 2 (rate generator), reload 65536. */
void ftg_clock_init(void);

/* Ticks of FTG_PIT_HZ since ftg_clock_init (3 port accesses). */
uint64_t ftg_clock_ticks(void);

uint64_t ftg_ticks_to_us(uint64_t ticks);

#endif /* FTGUEST_LIB_PIT_H_ */
