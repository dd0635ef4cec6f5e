/* virtio-net over virtio-mmio, see virtio_net.h. */
#include "drivers/virtio_net.h"

#include <stddef.h>

#include "drivers/virtio_mmio.h"
#include "drivers/virtqueue.h"
#include "lib/events.h"
#include "lib/fmt.h"
#include "lib/heap.h"
#include "lib/pio.h"
#include "lib/string.h"

#define VIRTIO_NET_F_MAC 5

#define RXQ 0
#define TXQ 1
#define QUEUE_SIZE 256
/* struct virtio_net_hdr as VIRTIO_F_VERSION_1 lays it out: flags,
 * gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers (the
 * last one present even without MRG_RXBUF). No offload is negotiated, so
 * it is all zeros on transmit and ignored on receive. */
#define HDR_LEN 12u
#define BUF_SIZE 2048u /* >= HDR_LEN + FTG_NET_MAX_FRAME */
_Static_assert(BUF_SIZE >= HDR_LEN + FTG_NET_MAX_FRAME, "buffer too small");
/* How long transmit waits for a full ring to drain, in `pause` iterations
 * (~0.5 ms here), before dropping the frame (TCP then retransmits). A full
 * ring means one batch produced more frames than the ring holds. */
#define TX_WAIT_PAUSES 10000
/* Used when the device offers no MAC: locally administered, unicast. */
static const uint8_t kFallbackMac[6] = {0x02, 0x46, 0x54, 0x47, 0x00, 0x01};

static struct {
  bool open;
  struct ftg_virtio_mmio dev;
  struct ftg_virtq rx, tx;
  /* BUF_SIZE bytes per descriptor: descriptor i always carries buffer i,
   * so a free descriptor's buffer is never in the device's hands. */
  uint8_t* rx_bufs;
  uint8_t* tx_bufs;
  bool tx_notify_owed; /* a publish passed the device's avail_event */
  struct ftg_netdev netdev;
  struct ftg_vnet_info info;
  struct ftg_vnet_stats stats;
} net;

static uint8_t* buf_of(uint8_t* bufs, uint32_t id) {
  return bufs + (size_t)id * BUF_SIZE;
}

/* Queues one single-descriptor chain. ftg_virtq_add takes q->free_head for
 * it, so the caller fills buf_of(bufs, q->free_head) first. */
static void add_one(struct ftg_virtq* q, uint8_t* bufs, uint32_t len,
                    bool device_writes) {
  struct ftg_virtq_buf b = {buf_of(bufs, q->free_head), len, device_writes};
  ftg_virtq_add(q, &b, 1);
}

static void notify(uint32_t queue, uint64_t* counter) {
  (*counter)++;
  ftg_virtio_mmio_notify(&net.dev, queue);
}

/* The handler only acknowledges (1 exit), without reading InterruptStatus
 * (the line is this device's alone; a config change needs nothing). The
 * frames are taken by receive, from ftg_net_poll: see netif_glue.h. */
static void on_irq(void* ctx) {
  (void)ctx;
  net.stats.interrupts++;
  ftg_virtio_mmio_write(&net.dev, FTG_VIRTIO_MMIO_INTERRUPT_ACK,
                        FTG_VIRTIO_INT_VRING | FTG_VIRTIO_INT_CONFIG);
}

/* Every used entry counts against the budget, a malformed one too. */
static unsigned vnet_receive(struct ftg_netdev* dev, unsigned budget) {
  unsigned n = 0;
  for (;;) {
    uint32_t id, len;
    while (n < budget && ftg_virtq_take_used(&net.rx, &id, &len)) {
      n++;
      if (id >= net.rx.size) continue; /* a broken device: leak the entry */
      if (len < HDR_LEN + 14 || len > BUF_SIZE) {
        net.stats.rx_bad++;
      } else {
        net.stats.rx_frames++;
        ftg_net_input(dev, buf_of(net.rx_bufs, id) + HDR_LEN, len - HDR_LEN);
      }
      /* ftg_net_input copied the frame: the buffer goes straight back. */
      add_one(&net.rx, net.rx_bufs, BUF_SIZE, true);
    }
    /* One publish for the whole refill; the device asks for a notify (via
     * avail_event) only when it ran out of buffers. */
    if (ftg_virtq_publish(&net.rx)) notify(RXQ, &net.stats.rx_notifies);
    /* Interrupt at the next frame (the loop is about to idle), then look
     * once more: a frame that arrived before the request was visible
     * brings no interrupt. */
    if (!ftg_virtq_enable_interrupts(&net.rx)) break;
    if (n == budget) {
      /* Frames beyond this poll's budget: keep the loop from idling. */
      net.stats.rx_backlog++;
      ftg_events_raise(net.dev.irq);
      break;
    }
  }
  return n;
}

static void reclaim_tx(void) {
  uint32_t id, len;
  while (ftg_virtq_take_used(&net.tx, &id, &len)) {
  }
}

static void tx_notify_if_owed(void) {
  if (!net.tx_notify_owed) return;
  net.tx_notify_owed = false;
  notify(TXQ, &net.stats.tx_notifies);
}

static int vnet_transmit(struct ftg_netdev* dev, const void* frame,
                         size_t len) {
  (void)dev;
  if (len > FTG_NET_MAX_FRAME) return 1;
  reclaim_tx();
  if (net.tx.num_free == 0) {
    /* Make sure the device is working on the ring, and give it a moment. */
    net.stats.tx_waits++;
    tx_notify_if_owed();
    for (unsigned i = 0; i < TX_WAIT_PAUSES && net.tx.num_free == 0; i++) {
      ftg_pause();
      reclaim_tx();
    }
    if (net.tx.num_free == 0) {
      net.stats.tx_full++;
      return 1;
    }
  }
  /* The header stays zero from open; only the frame is copied. */
  memcpy(buf_of(net.tx_bufs, net.tx.free_head) + HDR_LEN, frame, len);
  add_one(&net.tx, net.tx_bufs, HDR_LEN + (uint32_t)len, false);
  /* Published at once (a device still busy with the ring sees it without
   * a notify), notified once per batch by kick. */
  net.tx_notify_owed |= ftg_virtq_publish(&net.tx);
  net.stats.tx_frames++;
  return 0;
}

static void vnet_kick(struct ftg_netdev* dev) {
  (void)dev;
  net.tx_notify_owed |= ftg_virtq_publish(&net.tx);
  tx_notify_if_owed();
}

/* u8[6] at config offset 0, read with byte accesses as the spec wants for
 * 8-bit fields (6 exits, once). */
static void read_mac(uint8_t mac[6]) {
  for (uint32_t i = 0; i < 6; i++)
    mac[i] = *(volatile uint8_t*)(uintptr_t)(net.dev.base +
                                             FTG_VIRTIO_MMIO_CONFIG + i);
}

struct ftg_netdev* ftg_vnet_open(const char* cmdline) {
  if (net.open) return &net.netdev;
  if (!ftg_virtio_mmio_find(cmdline, FTG_VIRTIO_ID_NET, &net.dev)) {
    ftg_printf(
        "ftguest: virtio-net: no device (want a "
        "virtio_mmio.device=<size>@<base>:<irq> token for one)\n");
    return NULL;
  }
  /* No MRG_RXBUF, checksum offloads or GSO: every frame fits one buffer
   * and lwIP computes and checks every checksum itself. */
  uint64_t features;
  uint64_t wanted =
      1ull << FTG_VIRTIO_F_RING_EVENT_IDX | 1ull << VIRTIO_NET_F_MAC;
  if (!ftg_virtio_mmio_negotiate(&net.dev, wanted, 0, &features)) return NULL;
  bool event_idx = features & (1ull << FTG_VIRTIO_F_RING_EVENT_IDX);
  net.rx_bufs = ftg_heap_alloc((uint64_t)QUEUE_SIZE * BUF_SIZE);
  net.tx_bufs = ftg_heap_alloc((uint64_t)QUEUE_SIZE * BUF_SIZE);
  if (net.rx_bufs == NULL || net.tx_bufs == NULL) {
    ftg_printf("ftguest: virtio-net: out of memory\n");
    return NULL;
  }
  if (!ftg_virtio_mmio_setup_queue(&net.dev, RXQ, QUEUE_SIZE, event_idx,
                                   &net.rx) ||
      !ftg_virtio_mmio_setup_queue(&net.dev, TXQ, QUEUE_SIZE, event_idx,
                                   &net.tx))
    return NULL; /* the transport said why */
  for (uint32_t i = 0; i < net.tx.size; i++)
    memset(buf_of(net.tx_bufs, i), 0, HDR_LEN);
  /* The whole receive ring is posted; the transmit queue never asks for
   * an interrupt (virtqueue.c leaves used_event behind). */
  while (net.rx.num_free > 0) add_one(&net.rx, net.rx_bufs, BUF_SIZE, true);
  ftg_virtq_enable_interrupts(&net.rx);

  struct ftg_netdev* d = &net.netdev;
  bool has_mac = features & (1ull << VIRTIO_NET_F_MAC);
  if (has_mac)
    read_mac(d->mac);
  else
    memcpy(d->mac, kFallbackMac, 6);
  d->transmit = vnet_transmit;
  d->receive = vnet_receive;
  d->kick = vnet_kick;
  d->driver = &net;
  net.info = (struct ftg_vnet_info){
      .base = net.dev.base,
      .irq = net.dev.irq,
      .rx_queue_size = net.rx.size,
      .tx_queue_size = net.tx.size,
      .event_idx = event_idx,
      .mac_from_device = has_mac,
  };
  if (!ftg_irq_register(net.dev.irq, on_irq, NULL)) {
    ftg_printf("ftguest: virtio-net: IRQ %u already in use\n", net.dev.irq);
    return NULL;
  }
  ftg_virtio_mmio_driver_ok(&net.dev);
  /* Notifying is allowed only now that the device is live. */
  if (ftg_virtq_publish(&net.rx)) notify(RXQ, &net.stats.rx_notifies);
  net.open = true;
  ftg_printf(
      "ftguest: virtio-net base=0x%lx irq=%u mac=%02x:%02x:%02x:%02x:%02x:%02x"
      "%s rx_queue=%u tx_queue=%u event_idx=%d\n",
      net.info.base, net.info.irq, d->mac[0], d->mac[1], d->mac[2], d->mac[3],
      d->mac[4], d->mac[5], has_mac ? "" : " (fallback)",
      net.info.rx_queue_size, net.info.tx_queue_size, net.info.event_idx);
  return d;
}

const struct ftg_vnet_info* ftg_vnet_info(void) { return &net.info; }

const struct ftg_vnet_stats* ftg_vnet_stats(void) { return &net.stats; }
