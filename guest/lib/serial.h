/* Polled COM1 (16550) output. */
#ifndef FTGUEST_LIB_SERIAL_H_
#define FTGUEST_LIB_SERIAL_H_

#include <stdbool.h>
#include <stddef.h>

void ftg_serial_init(void);
void ftg_serial_write(const char* s, size_t n);
/* True if the last byte written was '\n' (or nothing was written yet). */
bool ftg_serial_at_line_start(void);

#endif /* FTGUEST_LIB_SERIAL_H_ */
