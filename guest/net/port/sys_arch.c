/*
 * The lwIP port's system functions: time, randomness, assertions.
 *
 * Record/replay (docs/guest.md, DESIGN.md section 2): a replayed guest must
 * make exactly the choices the recorded one made, so nothing here reads
 * RDTSC or RDRAND. Time is the PIT-based guest clock; "random" values come
 * from splitmix64 seeded from the command line (netseed=) or, by the
 * workload's choice, the RTC: both are device inputs the VMM logs.
 */
#include <stdint.h>

#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "lib/pit.h"
#include "lib/power.h"
#include "lwip/arch.h"
#include "lwip/ip4_addr.h"
#include "lwip/sys.h"
#include "net/port/port.h"

static uint64_t rng_state;
static uint64_t isn_key;
static const char* workload_name = "net";

static uint64_t splitmix64(uint64_t* s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void ftg_net_port_init(uint64_t seed, const char* workload) {
  rng_state = seed;
  isn_key = splitmix64(&rng_state);
  workload_name = workload;
}

uint32_t ftg_net_rand(void) { return (uint32_t)(splitmix64(&rng_state) >> 32); }

/* Milliseconds from the guest clock's last reading: no port I/O here (lwIP
 * asks often). The event loop keeps the reading fresh, see netif_glue.h. */
u32_t sys_now(void) {
  return (u32_t)(ftg_ticks_to_us(ftg_clock_last()) / 1000);
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 microsecond clock. F is a
 * keyed mix of the connection's addresses and ports, so ISNs differ per
 * connection and are not guessable from outside without the seed. */
uint32_t ftg_net_tcp_isn(const struct ip4_addr* local_ip, uint16_t local_port,
                         const struct ip4_addr* remote_ip,
                         uint16_t remote_port) {
  uint64_t s = isn_key ^ ((uint64_t)ip4_addr_get_u32(local_ip) << 32 |
                          ip4_addr_get_u32(remote_ip));
  s ^= splitmix64(&s) + ((uint64_t)local_port << 16 | remote_port);
  uint32_t m = (uint32_t)(ftg_ticks_to_us(ftg_clock_last()) / 4);
  return (uint32_t)splitmix64(&s) + m;
}

void ftg_net_assert_fail(const char* msg, int line, const char* file) {
  ftg_printf("ftguest: lwIP assertion \"%s\" failed at %s:%d\n", msg, file,
             line);
  ftg_finish(workload_name, 0, "lwip-assert", FTG_EXIT_FAIL);
}
