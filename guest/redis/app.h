/*
 * The redis workload's body (guest only): disk, log replay, network,
 * server, and the event loop, so that guest/workloads/redis.c only has to
 * open the NIC and call this. See docs/redis.md.
 */
#ifndef FTGUEST_REDIS_APP_H_
#define FTGUEST_REDIS_APP_H_

#include <stdint.h>

#include "net/netif_glue.h"

struct ftg_redis_app_result {
  uint64_t result;    /* FNV-1a of the final INFO keyspace line */
  const char* reason; /* NULL: stopped by SHUTDOWN; else why it failed */
};

/*
 * Runs the server until a client sends SHUTDOWN (or something fails).
 * Needs ftg_events_init, ftg_timer_init and the NIC driver (dev) ready.
 * Reads from the command line: the disk (virtio_mmio.device=...), ip= /
 * gw= / netseed= (netif_glue.h), redis_port= (default 6379).
 * Failure reasons: "no-disk", "disk-<aof status>" (e.g. disk-foreign-disk),
 * "bad-net-config", "no-memory", "listen", "aof-io".
 */
struct ftg_redis_app_result ftg_redis_app_run(const char* cmdline,
                                              struct ftg_netdev* dev);

#endif /* FTGUEST_REDIS_APP_H_ */
