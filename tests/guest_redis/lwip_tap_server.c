/*
 * The guest's network path minus virtio-net, as a host process: lwIP with
 * the guest's lwipopts.h, guest/net's netif glue and guest/redis's server
 * (allocator included), on a TAP device instead of a virtio-net queue, and
 * a file instead of virtio-blk. The event loop is the one the guest
 * workload will run (netif_glue.h, server.h). lwip_tap_test.sh drives it
 * with redis-cli and redis-benchmark.
 *
 *   lwip_tap_server TAPNAME "ip=A.B.C.D/P [gw=...]" DISKFILE
 *
 * Prints "serving" when ready; exits when stdin reaches EOF.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "aof.h"
#include "commands.h"
#include "net/netif_glue.h"
#include "server.h"

static int tap_fd, disk_fd;

static int tap_transmit(struct ftg_netdev* dev, const void* frame, size_t n) {
  (void)dev;
  return write(tap_fd, frame, n) == (ssize_t)n ? 0 : 1;
}

static unsigned tap_receive(struct ftg_netdev* dev, unsigned budget) {
  static unsigned char frame[2048];
  unsigned n = 0;
  for (; n < budget; n++) {
    ssize_t len = read(tap_fd, frame, sizeof(frame));
    if (len <= 0) break;
    ftg_net_input(dev, frame, (size_t)len);
  }
  return n;
}

static int disk_read(struct ftg_blockdev* d, uint64_t s, uint32_t n, void* b) {
  (void)d;
  return pread(disk_fd, b, n * 512ul, (off_t)(s * 512)) == (ssize_t)(n * 512ul)
             ? 0
             : 1;
}
static int disk_write(struct ftg_blockdev* d, uint64_t s, uint32_t n,
                      const void* b) {
  (void)d;
  return pwrite(disk_fd, b, n * 512ul, (off_t)(s * 512)) == (ssize_t)(n * 512ul)
             ? 0
             : 1;
}
static int disk_flush(struct ftg_blockdev* d) {
  (void)d;
  return fdatasync(disk_fd);
}

static int64_t wall_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s TAP CMDLINE DISK\n", argv[0]);
    return 2;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
  tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
  if (tap_fd < 0 || ioctl(tap_fd, TUNSETIFF, &ifr) < 0) {
    perror("tap");
    return 1;
  }
  disk_fd = open(argv[3], O_RDWR | O_CREAT, 0644);
  off_t size = disk_fd < 0 ? -1 : lseek(disk_fd, 0, SEEK_END);
  if (size == 0 && ftruncate(disk_fd, 32 << 20) == 0) size = 32 << 20;
  if (size <= 0) {
    perror(argv[3]);
    return 1;
  }
  struct ftg_blockdev disk = {(uint64_t)size / 512, NULL, disk_read, disk_write,
                              disk_flush};

  struct ftg_netdev dev = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56},
                           tap_transmit,
                           tap_receive,
                           NULL,
                           NULL};
  struct ftg_net_config cfg;
  const char* err;
  if (!ftg_net_parse_cmdline(argv[2], 1, &cfg, &err)) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  cfg.workload = "redis";
  if (!ftg_net_init(&dev, &cfg)) return 1;

  static struct rd_db db;
  static struct rd_aof aof;
  struct rd_aof_report rep;
  rd_db_init(&db, wall_ms());
  enum rd_aof_status st =
      rd_aof_open(&aof, &disk, 0, rd_db_apply_record, &db, &rep);
  if (st != RD_AOF_OK) {
    fprintf(stderr, "aof: %s\n", rd_aof_status_name(st));
    return 1;
  }
  db.aof = &aof;
  printf("replayed %llu records (%s)\n", (unsigned long long)rep.records,
         rd_aof_end_name(rep.end));
  static struct ftg_redis_server srv;
  struct ftg_redis_server_config scfg;
  ftg_redis_server_default_config(&scfg);
  if (!ftg_redis_server_start(&srv, &db, &scfg)) return 1;
  printf("serving\n");
  fflush(stdout);

  int more = 0;
  for (;;) {
    struct pollfd p[2] = {{tap_fd, POLLIN, 0}, {0, POLLIN, 0}};
    uint32_t next = ftg_net_next_timeout_ms();
    poll(p, 2, more ? 0 : (int)(next < 50 ? next : 50));
    if (p[1].revents) {
      char c;
      if (read(0, &c, 1) <= 0) break;
    }
    db.now = wall_ms();
    ftg_net_poll(); /* a batch: the frames waiting (up to 256), then... */
    more = ftg_redis_server_flush(&srv); /* ...one commit, then replies */
    if (more < 0) return 3;
    ftg_net_flush(&dev);
  }
  const struct ftg_net_stats* ns = ftg_net_stats();
  printf("rx=%llu tx=%llu rx_dropped=%llu rx_reentered=%llu batches=%llu\n",
         (unsigned long long)ns->rx_frames, (unsigned long long)ns->tx_frames,
         (unsigned long long)ns->rx_dropped,
         (unsigned long long)ns->rx_reentered,
         (unsigned long long)srv.stats.batches);
  return 0;
}
