/*
 * The kernel command line: space-separated key=value tokens. Unknown keys
 * are ignored on purpose (VMMs append their own, e.g. virtio_mmio.device=).
 */
#ifndef FTGUEST_LIB_CMDLINE_H_
#define FTGUEST_LIB_CMDLINE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ftg_str {
  const char* ptr;
  size_t len;
};

/* Finds the LAST token key=value (later tokens override earlier ones).
 * A bare "key" token matches with an empty value. */
bool ftg_cmdline_get(const char* cmdline, const char* key,
                     struct ftg_str* value);

/* Iterates over every token key=value, first to last: pass cmdline as pos
 * first, then the returned pointer; NULL when there are no more. For keys
 * that may repeat (virtio_mmio.device=...). */
const char* ftg_cmdline_next(const char* pos, const char* key,
                             struct ftg_str* value);

/* Parses a number the way C's strtoull(s, 0) would: 0x hex, leading-0
 * octal, else decimal; stops at the first non-digit. Returns the number of
 * characters used (0: no digits, or overflow). */
size_t ftg_parse_base0(const char* s, size_t len, uint64_t* out);

/* Parses a non-empty decimal number without sign, overflow or junk. */
bool ftg_parse_u64(struct ftg_str s, uint64_t* out);

#endif /* FTGUEST_LIB_CMDLINE_H_ */
