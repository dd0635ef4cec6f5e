/*
 * One client connection, independent of the transport: bytes in, requests
 * run, reply bytes out. The guest's lwIP glue (server.c) and the host test
 * server drive the same code, so what redis-benchmark sees on the host is
 * what it sees in the guest.
 *
 * Group commit is the transport's job, around this: for every connection
 * with input, rd_conn_receive + rd_conn_process; then rd_aof_commit once;
 * only then hand out rd_conn_output. Replies of a batch must not be sent
 * before its commit returned: they may acknowledge writes.
 */
#ifndef FTGUEST_REDIS_CONN_H_
#define FTGUEST_REDIS_CONN_H_

#include <stdbool.h>
#include <stddef.h>

#include "commands.h"
#include "resp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rd_conn_limits {
  struct rd_resp_limits resp;
  size_t max_query;  /* unparsed input beyond this drops the connection */
  size_t max_output; /* stop running requests while this much is unsent */
};

#define RD_CONN_DEFAULT_MAX_QUERY (4u * 1024u * 1024u)
#define RD_CONN_DEFAULT_MAX_OUTPUT (256u * 1024u)

struct rd_conn {
  struct rd_db* db;
  struct rd_resp_parser parser;
  struct rd_client client;
  struct rd_buf in;
  size_t in_off; /* bytes of `in` already parsed */
  struct rd_buf out;
  size_t out_off; /* bytes of `out` already handed to the transport */
  size_t max_query;
  size_t max_output;
  bool closing; /* QUIT or a protocol error: read nothing more */
  bool dead;    /* drop now, without sending what is queued */
  bool blocked; /* stopped on backed-up output with input left to run */
};

void rd_conn_init(struct rd_conn* c, struct rd_db* db,
                  const struct rd_conn_limits* limits); /* NULL: defaults */
void rd_conn_free(struct rd_conn* c);

/* Takes received bytes (ignored once closing). Marks the connection dead
 * if the unparsed input grows past max_query or memory runs out. */
void rd_conn_receive(struct rd_conn* c, const void* data, size_t n);

/* Runs every complete request, unless output is backed up (then it resumes
 * when called again after rd_conn_sent). A protocol error queues
 * "-ERR Protocol error: ..." and sets closing, as Redis does. */
void rd_conn_process(struct rd_conn* c);

/* True while requests wait for output to drain (the transport should stop
 * opening its receive window). */
bool rd_conn_paused(const struct rd_conn* c);

/* True if requests were held back by output that has drained since:
 * rd_conn_process has work to do without new input. */
bool rd_conn_runnable(const struct rd_conn* c);

/* Bytes ready to send: *p and the count (0 if none). */
size_t rd_conn_output(const struct rd_conn* c, const char** p);
/* The transport accepted n of them. */
void rd_conn_sent(struct rd_conn* c, size_t n);

/* Close once true: closing and everything queued was sent, or dead. */
bool rd_conn_done(const struct rd_conn* c);

#ifdef __cplusplus
}
#endif

#endif /* FTGUEST_REDIS_CONN_H_ */
