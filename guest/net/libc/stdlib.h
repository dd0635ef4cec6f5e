/* <stdlib.h> for the freestanding guest: lwIP's netif.c wants atoi (for
 * netif_find by name). Implemented in guest/net/port/libc_extra.c. */
#ifndef FTGUEST_NET_LIBC_STDLIB_H_
#define FTGUEST_NET_LIBC_STDLIB_H_

#include <stddef.h>

int atoi(const char* s);

#endif /* FTGUEST_NET_LIBC_STDLIB_H_ */
