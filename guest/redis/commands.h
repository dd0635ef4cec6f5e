/*
 * Redis commands over the store: the subset redis-cli and redis-benchmark
 * need, with Redis 7.0's exact replies and error texts.
 *
 * Durability: a command that changes data reserves room in the AOF before it
 * touches the store (so "log full" is refused cleanly), and appends its
 * record after the change succeeded (so a change that ran out of memory is
 * never logged). The record is the command in a canonical, deterministic
 * form: relative expiries (EX/PX) become absolute (PXAT), conditions that
 * were already decided (NX/XX/GET) are dropped. The caller commits the log
 * (rd_aof_commit) before any reply of the batch is sent.
 */
#ifndef FTGUEST_REDIS_COMMANDS_H_
#define FTGUEST_REDIS_COMMANDS_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resp.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rd_aof;

/* Counters INFO reports; the server layer updates the connection ones. */
struct rd_stats {
  uint64_t commands_processed;
  uint64_t connections_received;
  uint64_t connected_clients;
  uint64_t rejected_connections;
  uint64_t keyspace_hits;
  uint64_t keyspace_misses;
  uint64_t replay_errors;
};

/* Fixed facts INFO and CONFIG GET report. */
struct rd_server_info {
  uint16_t tcp_port;
  uint32_t max_clients;
  uint64_t max_bulk; /* proto-max-bulk-len */
};

struct rd_db {
  struct rd_store store;
  struct rd_aof* aof; /* NULL: changes are not logged (replay, tests) */
  int64_t now;        /* ms on the caller's time line, set before rd_exec */
  int64_t start;      /* `now` at start-up, for uptime */
  struct rd_stats stats;
  struct rd_server_info info;
  bool shutdown; /* SHUTDOWN was accepted: the server should stop */
};

/* Per-connection state a command can change. */
struct rd_client {
  bool close_after_reply; /* QUIT */
};

void rd_db_init(struct rd_db* db, int64_t now);
void rd_db_free(struct rd_db* db);

/* Runs one request (argc >= 1) and appends its reply to `reply`. */
void rd_exec(struct rd_db* db, struct rd_client* c,
             const struct rd_resp_cmd* cmd, struct rd_buf* reply);

/* Applies one AOF record (an rd_aof_apply_fn; ctx is the rd_db): runs the
 * command at the record's time without logging it again. Nonzero if the
 * payload is not exactly one request. Replies are discarded; a record whose
 * command fails anyway is counted in replay_errors. */
int rd_db_apply_record(void* db, int64_t time, const char* payload, size_t len);

/* Number of commands in the table (COMMAND COUNT). */
size_t rd_command_count(void);

#ifdef __cplusplus
}
#endif

#endif /* FTGUEST_REDIS_COMMANDS_H_ */
