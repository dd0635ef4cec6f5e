/* Internal to guest/net: the lwIP port's set-up (port/sys_arch.c). */
#ifndef FTGUEST_NET_PORT_PORT_H_
#define FTGUEST_NET_PORT_PORT_H_

#include <stdint.h>

/* Seeds the generator behind LWIP_RAND and the ISN hook; names the
 * workload reported if lwIP asserts. Before lwip_init(). */
void ftg_net_port_init(uint64_t seed, const char* workload);

#endif /* FTGUEST_NET_PORT_PORT_H_ */
