/*
 * A small printf: %d %i %u %x %X %c %s %p %%, flags '0' '-', a width, and
 * the l/ll/z length modifiers. Enough for the guest's fixed message formats
 * (e.g. result=%016llx), nothing more.
 */
#ifndef FTGUEST_LIB_FMT_H_
#define FTGUEST_LIB_FMT_H_

#include <stdarg.h>
#include <stddef.h>

typedef void (*ftg_emit_fn)(void* ctx, char c);

void ftg_vformat(ftg_emit_fn emit, void* ctx, const char* fmt, va_list ap);

/* Formats into buf (always NUL-terminated if size > 0); returns the length
 * the full output would have had. */
size_t ftg_snprintf(char* buf, size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes to the serial port in FIFO-sized chunks as the text is produced. */
void ftg_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* FTGUEST_LIB_FMT_H_ */
