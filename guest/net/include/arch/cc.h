/*
 * lwIP's compiler/platform header for ftguest: freestanding gcc, x86-64,
 * no libc. Only the compiler's own freestanding headers are used (stddef.h,
 * stdint.h); printf formats, limits and ctype come from here or lwIP's
 * fallbacks, string functions from guest/net/libc (see string.h there).
 */
#ifndef FTGUEST_NET_ARCH_CC_H_
#define FTGUEST_NET_ARCH_CC_H_

#include <stddef.h>
#include <stdint.h>

/* inttypes.h, limits.h, unistd.h and ctype.h are hosted headers. */
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_LIMITS_H 1
#define LWIP_NO_UNISTD_H 1
#define LWIP_NO_CTYPE_H 1

/* Formats for the guest's printf (lib/fmt.c knows l/ll/z). */
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

/* What limits.h/unistd.h would have given arch.h. */
typedef long ssize_t;
#define SSIZE_MAX __LONG_MAX__
#ifndef INT_MAX
#define INT_MAX __INT_MAX__
#endif

/* Byte swaps as single instructions rather than lwIP's shift-and-or. */
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))

/* Diagnostics go to the serial console; a failed assertion ends the run
 * (status=fail reason=lwip-assert) instead of corrupting state. */
void ftg_net_assert_fail(const char* msg, int line, const char* file)
    __attribute__((noreturn));
#define LWIP_PLATFORM_DIAG(x) \
  do {                        \
    ftg_printf x;             \
  } while (0)
#define LWIP_PLATFORM_ASSERT(x) ftg_net_assert_fail((x), __LINE__, __FILE__)
void ftg_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/* Deterministic randomness (record/replay): see port/sys_arch.c. */
uint32_t ftg_net_rand(void);
#define LWIP_RAND() ftg_net_rand()

#endif /* FTGUEST_NET_ARCH_CC_H_ */
