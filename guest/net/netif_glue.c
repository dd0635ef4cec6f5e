/* lwIP on an ftg_netdev, see netif_glue.h. */
#include "net/netif_glue.h"

#include "lib/cmdline.h"
#include "lib/fmt.h"
#include "lib/heap.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/mem.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "net/port/port.h"
#include "netif/ethernet.h"

unsigned char* ftg_net_ram_heap; /* LWIP_RAM_HEAP_POINTER */

static struct netif the_netif;
static struct ftg_netdev* the_dev;
static struct ftg_net_stats stats;
static bool tx_pending;
static bool in_lwip;  /* inside ftg_net_poll */
static bool in_input; /* inside lwIP's input path for one frame */
/* Gathers a chained pbuf into one frame. With LWIP_NETIF_TX_SINGLE_PBUF
 * TCP never chains, but ARP queueing or ICMP replies may. */
static uint8_t tx_scratch[FTG_NET_MAX_FRAME];

/* ---- command line ---- */

/* Parses A.B.C.D; returns the characters used (0 if malformed). */
static size_t parse_ip(const char* s, size_t n, uint32_t* out) {
  uint32_t ip = 0;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= n || s[i] != '.') return 0;
      i++;
    }
    uint32_t v = 0;
    size_t digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
      v = v * 10 + (uint32_t)(s[i++] - '0');
      digits++;
    }
    if (digits == 0 || v > 255) return 0;
    ip = ip << 8 | v;
  }
  *out = ip;
  return i;
}

bool ftg_net_parse_cmdline(const char* cmdline, uint64_t default_seed,
                           struct ftg_net_config* cfg, const char** error) {
  struct ftg_str v;
  cfg->gateway = 0;
  cfg->seed = default_seed;
  if (!ftg_cmdline_get(cmdline, "ip", &v)) {
    *error = "no ip=ADDR/PREFIX on the command line";
    return false;
  }
  size_t used = parse_ip(v.ptr, v.len, &cfg->ip);
  uint64_t prefix;
  if (used == 0 || used + 1 >= v.len || v.ptr[used] != '/' ||
      !ftg_parse_u64((struct ftg_str){v.ptr + used + 1, v.len - used - 1},
                     &prefix) ||
      prefix < 1 || prefix > 32) {
    *error = "ip= wants A.B.C.D/PREFIX (prefix 1-32)";
    return false;
  }
  cfg->netmask = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
  if (ftg_cmdline_get(cmdline, "gw", &v) &&
      parse_ip(v.ptr, v.len, &cfg->gateway) != v.len) {
    *error = "gw= wants A.B.C.D";
    return false;
  }
  if (ftg_cmdline_get(cmdline, "netseed", &v) &&
      !ftg_parse_u64(v, &cfg->seed)) {
    *error = "netseed= wants a decimal number";
    return false;
  }
  return true;
}

void ftg_net_ip_str(uint32_t ip, char* buf) {
  ftg_snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
               (ip >> 8) & 0xff, ip & 0xff);
}

/* ---- lwIP <-> device ---- */

static err_t glue_linkoutput(struct netif* netif, struct pbuf* p) {
  (void)netif;
  const void* frame = p->payload;
  if (p->next != NULL) {
    if (p->tot_len > sizeof(tx_scratch)) {
      stats.tx_dropped++;
      return ERR_IF;
    }
    pbuf_copy_partial(p, tx_scratch, p->tot_len, 0);
    frame = tx_scratch;
  }
  if (the_dev->transmit(the_dev, frame, p->tot_len) != 0) {
    stats.tx_dropped++;
    return ERR_MEM;
  }
  stats.tx_frames++;
  tx_pending = true;
  return ERR_OK;
}

static err_t glue_netif_init(struct netif* netif) {
  netif->name[0] = 'e';
  netif->name[1] = 'n';
  netif->output = etharp_output;
  netif->linkoutput = glue_linkoutput;
  netif->mtu = FTG_NET_MAX_FRAME - 14;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  for (int i = 0; i < ETH_HWADDR_LEN; i++) netif->hwaddr[i] = the_dev->mac[i];
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
                 NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

bool ftg_net_init(struct ftg_netdev* dev, const struct ftg_net_config* cfg) {
  if (dev->transmit == NULL || dev->receive == NULL) {
    ftg_printf("ftguest: net: the NIC driver lacks transmit or receive\n");
    return false;
  }
  /* mem.c's heap: MEM_SIZE plus its two bookkeeping headers, aligned. */
  ftg_net_ram_heap = ftg_heap_alloc(MEM_SIZE + 4096);
  if (ftg_net_ram_heap == NULL) {
    ftg_printf("ftguest: net: no memory for lwIP's %u KiB heap\n",
               (unsigned)(MEM_SIZE / 1024));
    return false;
  }
  ftg_net_port_init(cfg->seed, cfg->workload ? cfg->workload : "net");
  the_dev = dev;
  lwip_init();
  ip4_addr_t ip, mask, gw;
  ip4_addr_set_u32(&ip, lwip_htonl(cfg->ip));
  ip4_addr_set_u32(&mask, lwip_htonl(cfg->netmask));
  ip4_addr_set_u32(&gw, lwip_htonl(cfg->gateway));
  netif_add(&the_netif, &ip, &mask, &gw, NULL, glue_netif_init, ethernet_input);
  netif_set_default(&the_netif);
  netif_set_up(&the_netif);
  char a[16], m[16], g[16];
  ftg_net_ip_str(cfg->ip, a);
  ftg_net_ip_str(cfg->netmask, m);
  ftg_net_ip_str(cfg->gateway, g);
  ftg_printf(
      "ftguest: net: lwIP %s mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s "
      "netmask=%s gw=%s\n",
      LWIP_VERSION_STRING, dev->mac[0], dev->mac[1], dev->mac[2], dev->mac[3],
      dev->mac[4], dev->mac[5], a, m, g);
  return true;
}

void ftg_net_input(struct ftg_netdev* dev, const void* frame, size_t len) {
  (void)dev;
  /* Only from receive, and never from inside another frame's processing
   * (a handler run during a disk wait there): see netif_glue.h. */
  if (!in_lwip || in_input) {
    stats.rx_reentered++;
    return;
  }
  if (len > FTG_NET_MAX_FRAME || len < 14) {
    stats.rx_dropped++;
    return;
  }
  struct pbuf* p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
  if (p == NULL) {
    stats.rx_dropped++;
    return;
  }
  pbuf_take(p, frame, (u16_t)len);
  stats.rx_frames++;
  in_input = true;
  if (the_netif.input(p, &the_netif) != ERR_OK) pbuf_free(p);
  in_input = false;
}

void ftg_net_poll(void) {
  /* A nested call (from a handler run while the disk is waited for, in
   * the middle of a previous poll) would re-enter lwIP: refuse it. */
  if (in_lwip) {
    stats.rx_reentered++;
    return;
  }
  in_lwip = true;
  unsigned budget = FTG_NET_RX_BUDGET;
  while (budget > 0) {
    unsigned n = the_dev->receive(the_dev, budget);
    if (n == 0) break;
    budget -= n < budget ? n : budget;
  }
  sys_check_timeouts();
  in_lwip = false;
}

uint32_t ftg_net_next_timeout_ms(void) { return sys_timeouts_sleeptime(); }

void ftg_net_flush(struct ftg_netdev* dev) {
  if (!tx_pending) return;
  tx_pending = false;
  if (dev->kick != NULL) {
    dev->kick(dev);
    stats.kicks++;
  }
}

const struct ftg_net_stats* ftg_net_stats(void) { return &stats; }
