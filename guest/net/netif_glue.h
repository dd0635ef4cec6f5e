/*
 * The guest's network stack: lwIP (NO_SYS, raw API) on one Ethernet
 * device, with a static IPv4 address from the command line.
 *
 * A NIC driver (virtio-net) plugs in through struct ftg_netdev: it
 * provides transmit, receive (and optionally kick). Everything runs at
 * CPL3 from the workload's event loop:
 *
 *   ftg_net_init(&dev, &cfg);                 // once, after the driver
 *   for (;;) {
 *     ftg_events_poll();      // NIC IRQ handler: acknowledge, note work
 *     ftg_net_poll();         // dev.receive -> ftg_net_input per frame;
 *                             // lwIP timers
 *     <application commit, e.g. redis group commit + replies>
 *     ftg_net_flush(&dev);    // one TX notify for everything queued
 *     arm a timer for ftg_net_next_timeout_ms(); ftg_events_idle();
 *   }
 *
 * lwIP is entered only from ftg_net_poll, never from an interrupt handler:
 * the virtio-blk driver runs other handlers while it waits for the disk,
 * and a disk write happens in the middle of request processing (the redis
 * log's group commit). A handler that fed lwIP there would re-enter lwIP
 * and the server. The NIC's handler must therefore only acknowledge; the
 * frames are pulled by receive. (ftg_net_input also refuses, and counts,
 * frames offered while lwIP is already running.)
 *
 * Time: sys_now() is the guest clock's last value (ftg_clock_last, no
 * exits), which the timer service refreshes on every timer interrupt; the
 * timer armed for lwIP's next timeout guarantees one. Randomness (lwIP's
 * first ephemeral port, TCP initial sequence numbers) comes from a
 * generator seeded by cfg.seed, never from RDRAND/RDTSC: a replayed guest
 * makes the same choices.
 */
#ifndef FTGUEST_NET_NETIF_GLUE_H_
#define FTGUEST_NET_NETIF_GLUE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A frame is at most 1514 bytes: MTU 1500 + the Ethernet header (no FCS,
 * no VLAN tag). */
#define FTG_NET_MAX_FRAME 1514u

struct ftg_netdev {
  uint8_t mac[6];
  /* Queues one frame for sending; the frame may be reused as soon as this
   * returns (copy it or finish with it). Returns 0, or nonzero when the
   * device has no room: the frame is dropped and TCP retransmits it. */
  int (*transmit)(struct ftg_netdev* dev, const void* frame, size_t len);
  /* Hands up to `budget` received frames to ftg_net_input, one call per
   * frame, and returns how many it handed over (0: none waiting). Called
   * only by ftg_net_poll. The frame buffer may be reused once
   * ftg_net_input returns (it copies). */
  unsigned (*receive)(struct ftg_netdev* dev, unsigned budget);
  /* Optional: makes queued frames go (one notify exit for a whole batch).
   * NULL if transmit already does. */
  void (*kick)(struct ftg_netdev* dev);
  void* driver; /* the driver's own state */
};

struct ftg_net_config {
  uint32_t ip;          /* host byte order, e.g. 0xc6120002 = 198.18.0.2 */
  uint32_t netmask;     /* host byte order */
  uint32_t gateway;     /* host byte order, 0: none */
  uint64_t seed;        /* for ISNs and ports; see ftg_net_parse_cmdline */
  const char* workload; /* named in the final line if lwIP asserts */
};

/* Reads `ip=A.B.C.D/PREFIX` (required), `gw=A.B.C.D` (optional) and
 * `netseed=N` (optional decimal; defaults to default_seed, which the
 * caller derives e.g. from the RTC). False with *error set if the address
 * is missing or malformed. */
bool ftg_net_parse_cmdline(const char* cmdline, uint64_t default_seed,
                           struct ftg_net_config* cfg, const char** error);

/* Starts lwIP on dev (allocates lwIP's heap from the guest heap). False,
 * after printing why, if that memory is missing. Call once. */
bool ftg_net_init(struct ftg_netdev* dev, const struct ftg_net_config* cfg);

/* For the driver's receive: one received frame, copied into lwIP before
 * this returns. Runs lwIP's input path (and so the application's TCP
 * callbacks) synchronously. Dropped (rx_reentered) if lwIP is running
 * already, i.e. if called from anywhere but receive. */
void ftg_net_input(struct ftg_netdev* dev, const void* frame, size_t len);

/* Pulls received frames from the device (up to FTG_NET_RX_BUDGET) into
 * lwIP, then runs the lwIP timers that are due. */
#define FTG_NET_RX_BUDGET 256u
void ftg_net_poll(void);

/* Milliseconds until lwIP's next timer is due (0: now). */
uint32_t ftg_net_next_timeout_ms(void);

/* Calls dev->kick if frames were queued since the last flush. */
void ftg_net_flush(struct ftg_netdev* dev);

/* Formats a host-order IPv4 address ("198.18.0.2"); buf >= 16 bytes. */
void ftg_net_ip_str(uint32_t ip, char* buf);

struct ftg_net_stats {
  uint64_t rx_frames;
  uint64_t rx_dropped;   /* too long, or no pbuf free */
  uint64_t rx_reentered; /* offered while lwIP was running: dropped */
  uint64_t tx_frames;
  uint64_t tx_dropped; /* the device had no room */
  uint64_t kicks;
};
const struct ftg_net_stats* ftg_net_stats(void);

#endif /* FTGUEST_NET_NETIF_GLUE_H_ */
