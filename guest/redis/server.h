/*
 * The redis server on lwIP's raw TCP API (guest only): accepts clients on
 * a port, feeds what they send to per-connection rd_conn state (parse, run
 * commands, queue replies), and releases replies only after the AOF group
 * commit. Design and the event-loop contract: docs/redis.md.
 *
 * The workload's loop, with `srv` started and db.now kept current:
 *
 *   for (;;) {
 *     db.now = <ms now>;
 *     ftg_events_poll();
 *     ftg_net_poll();             // frames -> lwIP -> recv callbacks here:
 *                                 // requests run, replies queue up
 *     int r = ftg_redis_server_flush(&srv);  // commit once, then send
 *     if (r < 0) fail-stop;       // the log cannot be written
 *     ftg_net_flush(&dev);        // one TX notify for all replies
 *     if (r == 0) idle until the next interrupt or lwIP timer;
 *   }
 */
#ifndef FTGUEST_REDIS_SERVER_H_
#define FTGUEST_REDIS_SERVER_H_

#include <stdbool.h>
#include <stdint.h>

#include "commands.h"
#include "conn.h"

struct tcp_pcb;
struct ftg_redis_client;

struct ftg_redis_server_config {
  uint16_t port;        /* 6379 */
  uint32_t max_clients; /* beyond it: "-ERR max number of clients reached" */
  struct rd_conn_limits limits;
};

struct ftg_redis_server_stats {
  uint64_t batches; /* flushes that committed something */
  uint64_t bytes_in;
  uint64_t bytes_out;
  uint64_t tcp_write_full; /* lwIP had no room: output waited for ACKs */
};

struct ftg_redis_server {
  struct rd_db* db;
  struct ftg_redis_server_config cfg;
  struct tcp_pcb* listener;
  struct ftg_redis_client* clients;
  uint32_t num_clients;
  bool failed; /* the log failed: everyone was disconnected */
  struct ftg_redis_server_stats stats;
};

/* Defaults: port 6379, 100 clients, rd_conn's default limits. */
void ftg_redis_server_default_config(struct ftg_redis_server_config* cfg);

/* Listens on cfg->port. db (with db->aof set for durability) must outlive
 * the server. False (after printing why) if lwIP refuses. */
bool ftg_redis_server_start(struct ftg_redis_server* srv, struct rd_db* db,
                            const struct ftg_redis_server_config* cfg);

/*
 * Ends a batch: resumes clients whose output had backed up, commits the
 * log (one write + one flush for everything the batch changed), then hands
 * every queued reply to TCP and closes finished connections.
 * Returns 0 when done, 1 if a client still has requests to run (call again
 * without idling), -1 if the log failed: all clients were aborted without
 * their replies and the workload must stop (fail-stop; the next boot
 * replays what reached the disk).
 */
int ftg_redis_server_flush(struct ftg_redis_server* srv);

#endif /* FTGUEST_REDIS_SERVER_H_ */
