/*
 * virtio-net driver (virtio 1.x over virtio-mmio, device ID 1): the NIC
 * behind guest/net's struct ftg_netdev (net/netif_glue.h).
 *
 * One receive queue (0) and one transmit queue (1), each min(device
 * maximum, 256) entries; every entry is a single descriptor pointing at
 * its own 2 KiB buffer (12-byte virtio_net_hdr + a frame of up to 1514
 * bytes), so nothing is allocated after open.
 *
 * Exits are the dominant cost (docs/guest.md), so:
 *  - receive takes every waiting frame, re-posts the buffers in bulk and
 *    publishes once; it notifies the device only when event index says the
 *    device is waiting for buffers (it rarely is: the ring is kept full);
 *  - transmit only copies and publishes; kick (once per batch, from
 *    ftg_net_flush) notifies only if event index says the device is not
 *    already looking at the queue;
 *  - the device interrupts only for received frames (the transmit queue
 *    never asks for interrupts; used buffers are reclaimed in transmit),
 *    and the handler only acknowledges (1 exit): frames are pulled by
 *    receive from ftg_net_poll, never pushed from the handler, so lwIP is
 *    never re-entered (see netif_glue.h).
 */
#ifndef FTGUEST_DRIVERS_VIRTIO_NET_H_
#define FTGUEST_DRIVERS_VIRTIO_NET_H_

#include <stdbool.h>
#include <stdint.h>

#include "net/netif_glue.h"

struct ftg_vnet_info {
  uint64_t base; /* transport */
  uint32_t irq;
  uint16_t rx_queue_size;
  uint16_t tx_queue_size;
  bool event_idx;       /* VIRTIO_F_RING_EVENT_IDX negotiated */
  bool mac_from_device; /* VIRTIO_NET_F_MAC; else a fixed local MAC */
};

/* Finds the first virtio-net device announced on the command line
 * (virtio_mmio.device=...), initializes it (after ftg_events_init) and
 * returns the NIC for ftg_net_init; prints one line describing it, or why
 * there is none (NULL). */
struct ftg_netdev* ftg_vnet_open(const char* cmdline);

const struct ftg_vnet_info* ftg_vnet_info(void);

struct ftg_vnet_stats {
  uint64_t rx_frames;   /* handed to ftg_net_input */
  uint64_t rx_bad;      /* shorter than the header + an Ethernet header */
  uint64_t rx_notifies; /* QueueNotify writes for refills (exits) */
  uint64_t tx_frames;
  uint64_t tx_full;     /* transmit found no room even after waiting */
  uint64_t tx_waits;    /* transmit had to wait for the device */
  uint64_t tx_notifies; /* QueueNotify writes for sends (exits) */
  uint64_t interrupts;  /* handler runs, one InterruptACK write (exit) each */
  uint64_t rx_backlog;  /* receive left frames for the next poll */
};
const struct ftg_vnet_stats* ftg_vnet_stats(void);

#endif /* FTGUEST_DRIVERS_VIRTIO_NET_H_ */
