/* The redis server on lwIP's raw TCP API, see server.h and docs/redis.md. */
#include "server.h"

#include <string.h>

#include "aof.h"
#include "lib/fmt.h"
#include "lwip/tcp.h"
#include "rd_alloc.h"

struct ftg_redis_client {
  struct rd_conn conn;
  struct ftg_redis_server* srv;
  struct tcp_pcb* pcb; /* NULL once lwIP freed it (error or abort) */
  struct ftg_redis_client* next;
  uint32_t unacked; /* received while paused, window not yet reopened */
  bool peer_closed; /* FIN seen: close after the last reply went out */
};

void ftg_redis_server_default_config(struct ftg_redis_server_config* cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->port = 6379;
  cfg->max_clients = 100; /* lwIP has 128 pcbs: room for closing ones */
  cfg->limits.resp.max_args = RD_RESP_DEFAULT_MAX_ARGS;
  cfg->limits.resp.max_bulk = RD_RESP_DEFAULT_MAX_BULK;
  cfg->limits.resp.max_inline = RD_RESP_DEFAULT_MAX_INLINE;
  cfg->limits.max_query = RD_CONN_DEFAULT_MAX_QUERY;
  cfg->limits.max_output = RD_CONN_DEFAULT_MAX_OUTPUT;
}

/* Detaches the client from its pcb; lwIP calls nothing of ours after. */
static void detach(struct ftg_redis_client* c) {
  if (c->pcb == NULL) return;
  tcp_arg(c->pcb, NULL);
  tcp_recv(c->pcb, NULL);
  tcp_err(c->pcb, NULL);
  c->pcb = NULL;
}

static void free_client(struct ftg_redis_client* c) {
  struct ftg_redis_server* srv = c->srv;
  for (struct ftg_redis_client** l = &srv->clients; *l; l = &(*l)->next) {
    if (*l == c) {
      *l = c->next;
      break;
    }
  }
  srv->num_clients--;
  srv->db->stats.connected_clients = srv->num_clients;
  rd_conn_free(&c->conn);
  rd_free(c);
}

/* ---- lwIP callbacks (run from lwIP input, inside ftg_events_poll) ---- */

static void on_error(void* arg, err_t err) {
  (void)err;
  struct ftg_redis_client* c = arg;
  if (c == NULL) return;
  c->pcb = NULL; /* lwIP has freed it */
  c->conn.dead = true;
}

static err_t on_recv(void* arg, struct tcp_pcb* pcb, struct pbuf* p,
                     err_t err) {
  struct ftg_redis_client* c = arg;
  (void)err;
  if (p == NULL) {
    c->peer_closed = true;
    return ERR_OK;
  }
  for (struct pbuf* q = p; q != NULL; q = q->next)
    rd_conn_receive(&c->conn, q->payload, q->len);
  c->srv->stats.bytes_in += p->tot_len;
  /* Backpressure: while replies back up, received bytes do not reopen the
   * window, so a client pipelining without reading is slowed by TCP. */
  if (rd_conn_paused(&c->conn))
    c->unacked += p->tot_len;
  else
    tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  /* Run the requests now; their replies wait for the batch's commit. */
  rd_conn_process(&c->conn);
  return ERR_OK;
}

static err_t on_accept(void* arg, struct tcp_pcb* pcb, err_t err) {
  struct ftg_redis_server* srv = arg;
  if (err != ERR_OK || pcb == NULL) return ERR_VAL;
  srv->db->stats.connections_received++;
  if (srv->failed || srv->num_clients >= srv->cfg.max_clients) {
    static const char kFull[] = "-ERR max number of clients reached\r\n";
    srv->db->stats.rejected_connections++;
    tcp_write(pcb, kFull, sizeof(kFull) - 1, TCP_WRITE_FLAG_COPY);
    if (tcp_close(pcb) != ERR_OK) {
      tcp_abort(pcb);
      return ERR_ABRT;
    }
    return ERR_OK;
  }
  struct ftg_redis_client* c = rd_malloc(sizeof(*c));
  if (c == NULL) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  memset(c, 0, sizeof(*c));
  rd_conn_init(&c->conn, srv->db, &srv->cfg.limits);
  c->srv = srv;
  c->pcb = pcb;
  c->next = srv->clients;
  srv->clients = c;
  srv->num_clients++;
  srv->db->stats.connected_clients = srv->num_clients;
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_err(pcb, on_error);
  tcp_nagle_disable(pcb); /* replies go out at once, as Redis's TCP_NODELAY */
  return ERR_OK;
}

bool ftg_redis_server_start(struct ftg_redis_server* srv, struct rd_db* db,
                            const struct ftg_redis_server_config* cfg) {
  memset(srv, 0, sizeof(*srv));
  srv->db = db;
  srv->cfg = *cfg;
  db->info.tcp_port = cfg->port;
  db->info.max_clients = cfg->max_clients;
  db->info.max_bulk = cfg->limits.resp.max_bulk;
  struct tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == NULL || tcp_bind(pcb, IP4_ADDR_ANY, cfg->port) != ERR_OK) {
    ftg_printf("ftguest: redis: cannot bind TCP port %u\n", cfg->port);
    if (pcb != NULL) tcp_close(pcb);
    return false;
  }
  srv->listener = tcp_listen_with_backlog(pcb, 255);
  if (srv->listener == NULL) {
    ftg_printf("ftguest: redis: cannot listen on TCP port %u\n", cfg->port);
    tcp_close(pcb);
    return false;
  }
  tcp_arg(srv->listener, srv);
  tcp_accept(srv->listener, on_accept);
  return true;
}

/* ---- the end of a batch ---- */

/* Hands queued replies to TCP as far as its send buffer allows. */
static void send_output(struct ftg_redis_server* srv,
                        struct ftg_redis_client* c) {
  bool wrote = false;
  for (;;) {
    const char* p;
    size_t n = rd_conn_output(&c->conn, &p);
    size_t room = tcp_sndbuf(c->pcb);
    if (n == 0) break;
    if (room == 0) {
      srv->stats.tcp_write_full++;
      break;
    }
    if (n > room) n = room;
    err_t e = tcp_write(c->pcb, p, (u16_t)n, TCP_WRITE_FLAG_COPY);
    if (e == ERR_MEM) { /* out of segments: the rest goes after ACKs */
      srv->stats.tcp_write_full++;
      break;
    }
    if (e != ERR_OK) {
      c->conn.dead = true;
      break;
    }
    rd_conn_sent(&c->conn, n);
    srv->stats.bytes_out += n;
    wrote = true;
  }
  if (wrote) tcp_output(c->pcb);
  if (c->unacked > 0 && !rd_conn_paused(&c->conn)) {
    tcp_recved(c->pcb, (u16_t)c->unacked); /* <= TCP_WND < 64 KiB */
    c->unacked = 0;
  }
}

/* Closes c if it is finished; true if c was freed. */
static bool maybe_close(struct ftg_redis_client* c) {
  const char* p;
  bool drained = rd_conn_output(&c->conn, &p) == 0;
  if (c->pcb != NULL && !rd_conn_done(&c->conn) &&
      !(c->peer_closed && drained && !rd_conn_runnable(&c->conn)))
    return false;
  if (c->pcb != NULL) {
    struct tcp_pcb* pcb = c->pcb;
    detach(c);
    if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb); /* no memory for a FIN */
  }
  free_client(c);
  return true;
}

int ftg_redis_server_flush(struct ftg_redis_server* srv) {
  if (srv->failed) return -1;
  /* 1. Clients whose replies had backed up run their next requests now,
   *    so those replies are covered by this commit too. */
  for (struct ftg_redis_client* c = srv->clients; c != NULL; c = c->next)
    rd_conn_process(&c->conn);
  /* 2. Group commit: nothing of this batch is acknowledged before it. */
  struct rd_aof* aof = srv->db->aof;
  if (aof != NULL && rd_aof_pending(aof)) {
    if (rd_aof_commit(aof) != RD_AOF_OK) {
      ftg_printf("ftguest: redis: the log cannot be written: stopping\n");
      srv->failed = true;
      while (srv->clients != NULL) {
        struct ftg_redis_client* c = srv->clients;
        if (c->pcb != NULL) {
          struct tcp_pcb* pcb = c->pcb;
          detach(c);
          tcp_abort(pcb); /* no reply may suggest the writes are durable */
        }
        free_client(c);
      }
      return -1;
    }
    srv->stats.batches++;
  }
  /* 3. Replies out; finished connections closed. */
  int more = 0;
  for (struct ftg_redis_client *c = srv->clients, *next; c != NULL; c = next) {
    next = c->next;
    if (c->pcb != NULL && !c->conn.dead) send_output(srv, c);
    if (maybe_close(c)) continue;
    if (rd_conn_runnable(&c->conn)) more = 1; /* run the rest next round */
  }
  return more;
}
