/* The redis workload's body, see app.h. */
#include "app.h"

#include <string.h>

#include "aof.h"
#include "blockdev_vblk.h"
#include "commands.h"
#include "drivers/virtio_blk.h"
#include "lib/cmdline.h"
#include "lib/events.h"
#include "lib/fmt.h"
#include "lib/pit.h"
#include "lib/rtc.h"
#include "lib/timer.h"
#include "server.h"

static struct rd_db db;
static struct rd_aof aof;
static struct ftg_redis_server srv;
static struct ftg_timer lwip_timer;
static int64_t wall_base_ms; /* RTC at boot, ms since 1970 (0 if none) */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Command time: the RTC read once at boot plus the PIT clock since, so
 * expiries written to the log stay meaningful across restarts. Uses the
 * clock's last reading (no exits); the timer interrupt lwIP keeps armed
 * refreshes it at least every 50 ms, so expiry is precise to that. */
static int64_t now_ms(void) {
  return wall_base_ms + (int64_t)(ftg_ticks_to_us(ftg_clock_last()) / 1000);
}

static void on_lwip_timer(struct ftg_timer* t) { (void)t; }

static struct ftg_redis_app_result fail(const char* reason) {
  struct ftg_redis_app_result r = {0, reason};
  return r;
}

struct ftg_redis_app_result ftg_redis_app_run(const char* cmdline,
                                              struct ftg_netdev* dev) {
  struct ftg_rtc_time t;
  if (ftg_rtc_read(&t))
    wall_base_ms = (days_from_civil(t.year, t.month, t.day) * 86400 +
                    t.hour * 3600 + t.minute * 60 + t.second) *
                   1000;
  ftg_clock_ticks();

  /* 1. The log: replayed into the database before anyone can connect. */
  struct ftg_blockdev disk;
  if (!ftg_vblk_open(cmdline) || !ftg_blockdev_vblk(&disk))
    return fail("no-disk");
  rd_db_init(&db, now_ms());
  struct rd_aof_report rep;
  uint64_t t0 = ftg_clock_ticks();
  enum rd_aof_status st =
      rd_aof_open(&aof, &disk, 0, rd_db_apply_record, &db, &rep);
  if (st != RD_AOF_OK) {
    static char reason[40];
    ftg_snprintf(reason, sizeof(reason), "disk-%s", rd_aof_status_name(st));
    ftg_printf("ftguest: redis: cannot open the log: %s\n",
               rd_aof_status_name(st));
    return fail(reason);
  }
  ftg_printf(
      "ftguest: redis: log %s, replayed %lu records (%lu bytes) in %lu us, "
      "end=%s at byte %lu, keys=%zu\n",
      rep.formatted ? "formatted" : "opened", rep.records, rep.bytes,
      ftg_ticks_to_us(ftg_clock_ticks() - t0), rd_aof_end_name(rep.end),
      rep.tail, rd_store_size(&db.store, now_ms()));
  db.aof = &aof;
  db.now = db.start = now_ms();

  /* 2. The network and the server. */
  struct ftg_net_config net;
  const char* err;
  if (!ftg_net_parse_cmdline(cmdline, (uint64_t)wall_base_ms, &net, &err)) {
    ftg_printf("ftguest: redis: %s\n", err);
    return fail("bad-net-config");
  }
  net.workload = "redis";
  if (!ftg_net_init(dev, &net)) return fail("no-memory");
  struct ftg_redis_server_config cfg;
  ftg_redis_server_default_config(&cfg);
  struct ftg_str v;
  uint64_t port;
  if (ftg_cmdline_get(cmdline, "redis_port", &v) && ftg_parse_u64(v, &port) &&
      port > 0 && port < 65536)
    cfg.port = (uint16_t)port;
  if (!ftg_redis_server_start(&srv, &db, &cfg)) return fail("listen");
  ftg_printf("ftguest: redis: listening on port %u\n", cfg.port);

  /* 3. The event loop: a batch is everything one poll delivers. */
  for (;;) {
    db.now = now_ms();
    uint64_t disk_requests = ftg_vblk_stats()->requests;
    ftg_events_poll(); /* handlers: the NIC's only acknowledges */
    ftg_net_poll();    /* frames -> lwIP -> requests run; lwIP timers */
    int r = ftg_redis_server_flush(&srv); /* group commit, then replies */
    ftg_net_flush(dev);                   /* one TX notify for the batch */
    if (r < 0) return fail("aof-io");
    /* SHUTDOWN: its batch is committed and the replies (and FINs) handed
     * to the NIC; other clients are dropped with the VM, as Redis drops
     * them when it exits. */
    if (db.shutdown) break;
    rd_store_expire_cycle(&db.store, db.now, 16);
    if (r > 0) continue; /* requests held back by output: run them now */
    /* A disk wait in this turn (the commit) runs the handlers while it
     * halts, so it may have taken the NIC's interrupt for frames that
     * arrived after receive last looked; sleeping now would leave them
     * until the next timer. Go round once more instead: a turn without
     * disk I/O leaves the interrupt for the idle below. */
    if (ftg_vblk_stats()->requests != disk_requests) continue;
    ftg_timer_start(
        &lwip_timer,
        ftg_clock_last() + ftg_ms_to_ticks(ftg_net_next_timeout_ms()),
        on_lwip_timer, NULL);
    ftg_events_idle();
  }

  char line[96];
  size_t n = ftg_snprintf(line, sizeof(line), "keys=%zu",
                          rd_store_size(&db.store, now_ms()));
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)line[i]) * 0x100000001b3ull;
  const struct ftg_net_stats* ns = ftg_net_stats();
  ftg_printf(
      "ftguest: redis: shutdown %s commands=%lu commits=%lu rx=%lu tx=%lu\n",
      line, db.stats.commands_processed, aof.stats.commits, ns->rx_frames,
      ns->tx_frames);
  struct ftg_redis_app_result ok = {h, NULL};
  return ok;
}
