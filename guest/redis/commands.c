/*
 * Command dispatch, the read commands and record replay, see commands.h.
 * (Writes: commands_write.c; server commands: commands_server.c.) Replies and
 * error texts follow Redis 7.0 (t_string.c, db.c, server.c), checked byte for
 * byte against redis-server 7.0.15.
 */
#include "commands.h"

#include <string.h>

#include "commands_int.h"

const char rd_err_syntax[] = "ERR syntax error";
const char rd_err_not_int[] = "ERR value is not an integer or out of range";

bool rd_arg_is(const char* arg, size_t len, const char* lit) {
  for (size_t i = 0; i < len; i++) {
    char a = arg[i];
    if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
    if (lit[i] == '\0' || a != lit[i]) return false;
  }
  return lit[len] == '\0';
}

void rd_reply_arity(struct rd_buf* out, const char* name) {
  rd_buf_append_str(out, "-ERR wrong number of arguments for '");
  rd_buf_append_str(out, name);
  rd_buf_append_str(out, "' command\r\n");
}

/* ---- reads ---- */

static void cmd_get(struct rd_call* c) {
  const char* v;
  size_t n;
  if (rd_store_get(&c->db->store, c->argv[1], c->argl[1], c->db->now, &v, &n)) {
    c->db->stats.keyspace_hits++;
    rd_reply_bulk(c->out, v, n);
  } else {
    c->db->stats.keyspace_misses++;
    rd_reply_null(c->out);
  }
}

static void cmd_mget(struct rd_call* c) {
  rd_reply_array(c->out, c->argc - 1);
  for (size_t i = 1; i < c->argc; i++) {
    const char* v;
    size_t n;
    if (rd_store_get(&c->db->store, c->argv[i], c->argl[i], c->db->now, &v, &n))
      rd_reply_bulk(c->out, v, n);
    else
      rd_reply_null(c->out);
  }
}

static void cmd_exists(struct rd_call* c) {
  int64_t count = 0;
  for (size_t i = 1; i < c->argc; i++) {
    const char* v;
    size_t n;
    count +=
        rd_store_get(&c->db->store, c->argv[i], c->argl[i], c->db->now, &v, &n);
  }
  rd_reply_int(c->out, count);
}

static void cmd_strlen(struct rd_call* c) {
  const char* v;
  size_t n = 0;
  rd_store_get(&c->db->store, c->argv[1], c->argl[1], c->db->now, &v, &n);
  rd_reply_int(c->out, (int64_t)n);
}

static void cmd_dbsize(struct rd_call* c) {
  rd_reply_int(c->out, (int64_t)rd_store_size(&c->db->store, c->db->now));
}

/* TTL / PTTL: -2 missing, -1 no expiry, else the time left (TTL rounds). */
static void ttl_generic(struct rd_call* c, bool ms) {
  int64_t when;
  if (!rd_store_get_expire(&c->db->store, c->argv[1], c->argl[1], c->db->now,
                           &when)) {
    rd_reply_int(c->out, -2);
  } else if (when == RD_NO_EXPIRE) {
    rd_reply_int(c->out, -1);
  } else {
    int64_t left = when - c->db->now;
    if (left < 0) left = 0;
    rd_reply_int(c->out, ms ? left : (left + 500) / 1000);
  }
}

static void cmd_ttl(struct rd_call* c) { ttl_generic(c, false); }
static void cmd_pttl(struct rd_call* c) { ttl_generic(c, true); }

/* ---- the table and dispatch ---- */

const struct rd_command rd_commands[] = {
    {"get", 2, cmd_get},
    {"set", -3, rd_cmd_set},
    {"incr", 2, rd_cmd_incr},
    {"ping", -1, rd_cmd_ping},
    {"mget", -2, cmd_mget},
    {"mset", -3, rd_cmd_mset},
    {"del", -2, rd_cmd_del},
    {"exists", -2, cmd_exists},
    {"incrby", 3, rd_cmd_incrby},
    {"decr", 2, rd_cmd_decr},
    {"decrby", 3, rd_cmd_decrby},
    {"append", 3, rd_cmd_append},
    {"strlen", 2, cmd_strlen},
    {"ttl", 2, cmd_ttl},
    {"pttl", 2, cmd_pttl},
    {"dbsize", 1, cmd_dbsize},
    {"flushall", -1, rd_cmd_flushall},
    {"echo", 2, rd_cmd_echo},
    {"select", 2, rd_cmd_select},
    {"quit", -1, rd_cmd_quit},
    {"info", -1, rd_cmd_info},
    {"command", -1, rd_cmd_command},
    {"config", -2, rd_cmd_config},
    {"shutdown", -1, rd_cmd_shutdown},
};
const size_t rd_num_commands = sizeof(rd_commands) / sizeof(rd_commands[0]);

size_t rd_command_count(void) { return rd_num_commands; }

void rd_db_init(struct rd_db* db, int64_t now) {
  memset(db, 0, sizeof(*db));
  rd_store_init(&db->store);
  db->now = now;
  db->start = now;
  db->info.tcp_port = 6379;
  db->info.max_clients = 64;
  db->info.max_bulk = RD_RESP_DEFAULT_MAX_BULK;
}

void rd_db_free(struct rd_db* db) { rd_store_free(&db->store); }

void rd_append_sanitized(struct rd_buf* out, const char* s, size_t n,
                         size_t max) {
  size_t k = 0;
  while (k < n && k < max && s[k]) k++;
  size_t start = out->len;
  if (!rd_buf_append(out, s, k)) return;
  for (size_t i = start; i < out->len; i++)
    if (out->data[i] == '\r' || out->data[i] == '\n') out->data[i] = ' ';
}

/* "-ERR unknown command '<name>', with args beginning with: 'a' 'b' ",
 * built as Redis does: the name cut at 128 bytes, arguments added while
 * the list is shorter than 128 bytes, each cut to fit. */
static void reply_unknown(struct rd_call* c) {
  struct rd_buf* out = c->out;
  rd_buf_append_str(out, "-ERR unknown command '");
  rd_append_sanitized(out, c->argv[0], c->argl[0], 128);
  rd_buf_append_str(out, "', with args beginning with: ");
  size_t args = 0;
  for (size_t i = 1; i < c->argc && args < 128; i++) {
    size_t before = out->len;
    rd_buf_append(out, "'", 1);
    rd_append_sanitized(out, c->argv[i], c->argl[i], 128 - args);
    rd_buf_append(out, "' ", 2);
    args += out->len - before;
  }
  rd_buf_append(out, "\r\n", 2);
}

void rd_exec(struct rd_db* db, struct rd_client* client,
             const struct rd_resp_cmd* cmd, struct rd_buf* reply) {
  struct rd_call c = {db, client, cmd->argc, cmd->argv, cmd->argl, reply};
  for (size_t i = 0; i < rd_num_commands; i++) {
    const struct rd_command* k = &rd_commands[i];
    if (!rd_arg_is(cmd->argv[0], cmd->argl[0], k->name)) continue;
    if ((k->arity > 0 && cmd->argc != (size_t)k->arity) ||
        (k->arity < 0 && cmd->argc < (size_t)-k->arity)) {
      rd_reply_arity(reply, k->name);
      return;
    }
    db->stats.commands_processed++;
    k->fn(&c);
    return;
  }
  reply_unknown(&c);
}

int rd_db_apply_record(void* ctx, int64_t time, const char* payload,
                       size_t len) {
  struct rd_db* db = ctx;
  struct rd_resp_limits lim = {SIZE_MAX, SIZE_MAX, SIZE_MAX};
  struct rd_resp_parser p;
  rd_resp_parser_init(&p, &lim);
  struct rd_resp_cmd cmd;
  size_t used;
  int rc = 1;
  if (rd_resp_parse(&p, payload, len, &cmd, &used) == RD_RESP_CMD &&
      used == len) {
    struct rd_aof* aof = db->aof;
    int64_t now = db->now;
    struct rd_client client = {false};
    struct rd_buf reply;
    rd_buf_init(&reply);
    db->aof = NULL; /* replayed commands are in the log already */
    db->now = time;
    rd_exec(db, &client, &cmd, &reply);
    if (reply.oom || (reply.len > 0 && reply.data[0] == '-'))
      db->stats.replay_errors++;
    db->aof = aof;
    db->now = now;
    rd_buf_free(&reply);
    rc = 0;
  }
  rd_resp_parser_free(&p);
  return rc;
}
