/* Ending the run: the exit-code port, and the one final line. */
#ifndef FTGUEST_LIB_POWER_H_
#define FTGUEST_LIB_POWER_H_

#include <stdint.h>

/* Writes code to FTG_PORT_DEBUG_EXIT. If the VM keeps running (no such
 * device), says so and spins forever. */
__attribute__((noreturn)) void ftg_poweroff(uint32_t code);

/* Prints the final line for workload (reason NULL means status=ok), then
 * powers off with exit_code. Guarantees at most one final line per run. */
__attribute__((noreturn)) void ftg_finish(const char* workload, uint64_t result,
                                          const char* reason,
                                          uint32_t exit_code);

/* True once ftg_finish has started printing the final line. */
int ftg_finishing(void);

#endif /* FTGUEST_LIB_POWER_H_ */
