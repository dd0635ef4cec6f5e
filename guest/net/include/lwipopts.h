/*
 * lwIP configuration for ftguest: one Ethernet interface, static IPv4,
 * TCP servers (redis on 6379) through the raw API, run from the guest's
 * single CPL3 event loop (NO_SYS). Sized for redis-benchmark's default
 * 50 clients with -P 16: every connection can have a full 64 KB window in
 * each direction without lwIP running out of segments.
 *
 * Record/replay: nothing here may read a clock or an entropy source behind
 * the VMM's back. Time is sys_now() (the PIT, via the guest clock) and
 * randomness LWIP_RAND() / the ISN hook (a generator seeded from the
 * command line), see port/sys_arch.c.
 */
#ifndef FTGUEST_NET_LWIPOPTS_H_
#define FTGUEST_NET_LWIPOPTS_H_

#include <stdint.h>

/* ---- system: bare metal, one thread ---- */
#define NO_SYS 1
#define LWIP_TIMERS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* nothing preempts lwIP: no locking */
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define LWIP_ALTCP 0
#define LWIP_SINGLE_NETIF 1
#define LWIP_NETIF_LOOPBACK 0
#define LWIP_HAVE_LOOPIF 0

/* ---- protocols ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1 /* ping */
#define LWIP_RAW 0
#define LWIP_UDP 0 /* no DHCP/DNS: addresses come from the command line */
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
/* Peers are on the test network with MTU 1500 and TCP's MSS keeps
 * segments below it: no fragments expected, none accepted. */
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define ARP_TABLE_SIZE 32
#define ARP_QUEUEING 1
#define ETH_PAD_SIZE 0

/* ---- memory: pools in .bss, the heap from the guest heap ---- */
#define MEM_ALIGNMENT 8
#define MEM_LIBC_MALLOC 0
#define MEMP_MEM_MALLOC 0
/* The lwIP heap holds segment data queued by tcp_write (TCP_WRITE_FLAG_COPY)
 * until it is acknowledged: up to TCP_SND_BUF per busy connection. It is
 * carved from the guest heap at start-up (netif_glue.c) rather than put in
 * .bss, so workloads that never start the network pay nothing for it. */
#define MEM_SIZE (4 * 1024 * 1024)
extern unsigned char* ftg_net_ram_heap;
#define LWIP_RAM_HEAP_POINTER ftg_net_ram_heap
#define MEMP_NUM_PBUF 32
#define MEMP_NUM_TCP_PCB                              \
  128 /* 50 clients + the previous run's closing ones \
       */
#define MEMP_NUM_TCP_PCB_LISTEN 4
#define MEMP_NUM_TCP_SEG 1024 /* >= TCP_SND_QUEUELEN, shared by all pcbs */
#define PBUF_POOL_SIZE 256    /* received frames in flight (one frame each) */

/* ---- TCP ---- */
#define TCP_MSS 1460
#define TCP_WND (44 * TCP_MSS) /* 64240: the largest without window scaling */
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_QUEUE_OOSEQ 1
#define TCP_LISTEN_BACKLOG 0
#define LWIP_TCP_KEEPALIVE 0
#define LWIP_TCP_TIMESTAMPS 0
#define LWIP_WND_SCALE 0
#define TCP_TTL 64
/* A segment is one contiguous pbuf with its headers, so the driver gets
 * each frame as one buffer (no gather copy in netif_glue.c), and the
 * checksum is computed while tcp_write copies the data. */
#define LWIP_NETIF_TX_SINGLE_PBUF 1
#define LWIP_CHECKSUM_ON_COPY 1

/* ---- checksums: computed and checked in software (no offloads) ---- */
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1

/* ---- determinism: initial sequence numbers from our generator ---- */
struct ip4_addr;
uint32_t ftg_net_tcp_isn(const struct ip4_addr* local_ip, uint16_t local_port,
                         const struct ip4_addr* remote_ip,
                         uint16_t remote_port);
#define LWIP_HOOK_TCP_ISN ftg_net_tcp_isn

/* ---- diagnostics: counters are kept by netif_glue.c; LWIP_DEBUG stays
 * undefined (lwIP tests #ifdef, so even 0 would turn debugging on) ---- */
#define LWIP_STATS 0
#define LWIP_NETIF_HOSTNAME 0
#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0

#endif /* FTGUEST_NET_LWIPOPTS_H_ */
