/* Transport-independent client connection, see conn.h. */
#include "conn.h"

#include <string.h>

void rd_conn_init(struct rd_conn* c, struct rd_db* db,
                  const struct rd_conn_limits* limits) {
  memset(c, 0, sizeof(*c));
  c->db = db;
  rd_resp_parser_init(&c->parser, limits ? &limits->resp : NULL);
  c->max_query = limits ? limits->max_query : RD_CONN_DEFAULT_MAX_QUERY;
  c->max_output = limits ? limits->max_output : RD_CONN_DEFAULT_MAX_OUTPUT;
  rd_buf_init(&c->in);
  rd_buf_init(&c->out);
}

void rd_conn_free(struct rd_conn* c) {
  rd_resp_parser_free(&c->parser);
  rd_buf_free(&c->in);
  rd_buf_free(&c->out);
}

void rd_conn_receive(struct rd_conn* c, const void* data, size_t n) {
  if (c->closing || c->dead) return;
  /* Drop parsed bytes before growing: `in` then holds one partial request
   * plus whatever a backed-up pipeline left unparsed. */
  if (c->in_off > 0 && c->in_off >= c->in.len / 2) {
    rd_buf_consume(&c->in, c->in_off);
    c->in_off = 0;
  }
  if (c->in.len - c->in_off + n > c->max_query ||
      !rd_buf_append(&c->in, data, n)) {
    c->dead = true; /* Redis closes clients past client-query-buffer-limit */
  }
}

bool rd_conn_paused(const struct rd_conn* c) {
  return c->out.len - c->out_off > c->max_output;
}

void rd_conn_process(struct rd_conn* c) {
  while (!c->closing && !c->dead && !rd_conn_paused(c) &&
         c->in_off < c->in.len) {
    struct rd_resp_cmd cmd;
    size_t used = 0;
    enum rd_resp_status st = rd_resp_parse(&c->parser, c->in.data + c->in_off,
                                           c->in.len - c->in_off, &cmd, &used);
    if (st == RD_RESP_CMD) {
      rd_exec(c->db, &c->client, &cmd, &c->out);
      if (c->client.close_after_reply) c->closing = true;
    } else if (st == RD_RESP_ERROR) {
      rd_buf_append_str(&c->out, "-ERR ");
      rd_buf_append_str(&c->out, rd_resp_error(&c->parser));
      rd_buf_append_str(&c->out, "\r\n");
      c->closing = true;
    } else if (st == RD_RESP_NOMEM) {
      c->dead = true;
    }
    c->in_off += used;
    if (st != RD_RESP_CMD) break;
  }
  c->blocked = rd_conn_paused(c) && c->in_off < c->in.len;
  /* A reply that could not be built whole must never be sent. */
  if (c->out.oom) c->dead = true;
  if (c->in_off == c->in.len) {
    c->in.len = 0;
    c->in_off = 0;
  }
}

bool rd_conn_runnable(const struct rd_conn* c) {
  return c->blocked && !rd_conn_paused(c) && !c->closing && !c->dead;
}

size_t rd_conn_output(const struct rd_conn* c, const char** p) {
  *p = c->out.data + c->out_off;
  return c->dead ? 0 : c->out.len - c->out_off;
}

void rd_conn_sent(struct rd_conn* c, size_t n) {
  c->out_off += n;
  if (c->out_off == c->out.len) {
    c->out.len = 0;
    c->out_off = 0;
  } else if (c->out_off > 64 * 1024 && c->out_off >= c->out.len / 2) {
    rd_buf_consume(&c->out, c->out_off);
    c->out_off = 0;
  }
}

bool rd_conn_done(const struct rd_conn* c) {
  return c->dead || (c->closing && c->out.len == c->out_off);
}
