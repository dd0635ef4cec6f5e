/*
 * redis: a Redis-protocol key-value server on TCP port 6379, every write
 * durable on the virtio-blk disk before it is acknowledged and replayed
 * from it at boot (guest/redis, docs/redis.md). Runs until a client sends
 * SHUTDOWN. The load for failover tests of a networked service: clients
 * must never see an acknowledged write lost.
 *
 * This file only opens the NIC (virtio-net) and maps the server's outcome
 * to the final line; the body is ftg_redis_app_run (redis/app.c). The
 * counters printed at the end are the device work behind the run: each
 * notify, interrupt acknowledgement and timer arm is one or two exits.
 */
#include "drivers/virtio_blk.h"
#include "drivers/virtio_net.h"
#include "ftguest/reference.h"
#include "lib/events.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "lib/timer.h"
#include "redis/app.h"
#include "workloads/workload.h"

static void print_counters(void) {
  const struct ftg_vnet_stats* n = ftg_vnet_stats();
  const struct ftg_vblk_stats* b = ftg_vblk_stats();
  const struct ftg_timer_stats* t = ftg_timer_stats();
  ftg_printf(
      "ftguest: redis: virtio-net rx=%lu tx=%lu interrupts=%lu "
      "rx_notifies=%lu tx_notifies=%lu tx_waits=%lu tx_full=%lu "
      "rx_backlog=%lu rx_bad=%lu\n",
      n->rx_frames, n->tx_frames, n->interrupts, n->rx_notifies, n->tx_notifies,
      n->tx_waits, n->tx_full, n->rx_backlog, n->rx_bad);
  ftg_printf(
      "ftguest: redis: virtio-blk requests=%lu notifies=%lu interrupts=%lu "
      "timer arms=%lu irqs=%lu idles=%lu\n",
      b->requests, b->notifies, b->interrupts, t->arms, t->interrupts,
      ftg_event_stats()->idles);
}

static struct ftg_outcome run(const uint64_t* values) {
  (void)values;
  struct ftg_netdev* dev = ftg_vnet_open(ftg_boot_cmdline);
  if (dev == NULL) {
    struct ftg_outcome o = {0, "no-nic", FTG_EXIT_FAIL};
    return o;
  }
  struct ftg_redis_app_result r = ftg_redis_app_run(ftg_boot_cmdline, dev);
  print_counters();
  if (r.reason == NULL) return ftg_ok(r.result);
  /* A missing or malformed ip= is a command-line error like bad-param. */
  uint32_t code = FTG_EXIT_FAIL;
  if (ftg_str_eq(r.reason, strlen(r.reason), "bad-net-config"))
    code = FTG_EXIT_BAD_CMDLINE;
  struct ftg_outcome o = {r.result, r.reason, code};
  return o;
}

const struct ftg_workload ftg_workload_redis = {"redis", NULL, 0, run};
