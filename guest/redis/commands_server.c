/*
 * Connection and server commands: PING, ECHO, SELECT, QUIT, INFO, COMMAND,
 * CONFIG. Just enough for redis-cli and redis-benchmark (Redis 7.0 tools):
 * redis-cli sends COMMAND DOCS when it starts interactively (an empty reply
 * means "no hints"), redis-benchmark sends CONFIG GET save and CONFIG GET
 * appendonly before each test.
 */
#include <string.h>

#include "aof.h"
#include "commands_int.h"
#include "rd_alloc.h"

void rd_cmd_ping(struct rd_call* c) {
  if (c->argc > 2)
    rd_reply_arity(c->out, "ping");
  else if (c->argc == 2)
    rd_reply_bulk(c->out, c->argv[1], c->argl[1]);
  else
    rd_reply_simple(c->out, "PONG");
}

void rd_cmd_echo(struct rd_call* c) {
  rd_reply_bulk(c->out, c->argv[1], c->argl[1]);
}

/* One database only ("databases 1"): SELECT 0 works, others are refused
 * the way Redis refuses an index beyond its databases. */
void rd_cmd_select(struct rd_call* c) {
  int64_t id;
  if (!rd_str2ll(c->argv[1], c->argl[1], &id) || id < INT32_MIN ||
      id > INT32_MAX)
    rd_reply_error(c->out, rd_err_not_int);
  else if (id != 0)
    rd_reply_error(c->out, "ERR DB index is out of range");
  else
    rd_reply_simple(c->out, "OK");
}

void rd_cmd_quit(struct rd_call* c) {
  rd_reply_simple(c->out, "OK");
  c->client->close_after_reply = true;
}

/* SHUTDOWN [NOSAVE|SAVE]: every write is durable already, so all forms
 * just stop the server; like Redis, the client gets no reply, only the
 * closed connection. Tests use it to end a guest cleanly. */
void rd_cmd_shutdown(struct rd_call* c) {
  if (c->argc > 2 ||
      (c->argc == 2 && !rd_arg_is(c->argv[1], c->argl[1], "nosave") &&
       !rd_arg_is(c->argv[1], c->argl[1], "save"))) {
    rd_reply_error(c->out, rd_err_syntax);
    return;
  }
  c->db->shutdown = true;
  c->client->close_after_reply = true;
}

/* ---- INFO ---- */

static void kv_str(struct rd_buf* b, const char* k, const char* v) {
  rd_buf_append_str(b, k);
  rd_buf_append(b, ":", 1);
  rd_buf_append_str(b, v);
  rd_buf_append(b, "\r\n", 2);
}

static void kv_num(struct rd_buf* b, const char* k, int64_t v) {
  char num[24];
  rd_ll2str(num, v);
  kv_str(b, k, num);
}

enum {
  SEC_SERVER,
  SEC_CLIENTS,
  SEC_MEMORY,
  SEC_PERSISTENCE,
  SEC_STATS,
  SEC_KEYSPACE,
  NUM_SECTIONS
};
static const char* const kSections[NUM_SECTIONS] = {
    "server", "clients", "memory", "persistence", "stats", "keyspace"};
static const char* const kTitles[NUM_SECTIONS] = {"# Server", "# Clients",
                                                  "# Memory", "# Persistence",
                                                  "# Stats",  "# Keyspace"};

static void info_section(struct rd_db* db, int s, struct rd_buf* b) {
  int64_t uptime = (db->now - db->start) / 1000;
  switch (s) {
    case SEC_SERVER:
      /* redis_version is what tools compare against: claim the 7.0
       * protocol level this server implements. */
      kv_str(b, "redis_version", "7.0.0");
      kv_str(b, "redis_git_sha1", "00000000");
      kv_str(b, "redis_git_dirty", "0");
      kv_str(b, "redis_mode", "standalone");
      kv_str(b, "ftguest_server", "ftvm test guest (lwIP, CPL3)");
      kv_str(b, "os", "ftguest x86_64");
      kv_str(b, "arch_bits", "64");
      kv_str(b, "multiplexing_api", "lwip");
      kv_num(b, "process_id", 1);
      kv_str(b, "run_id", "0000000000000000000000000000000000000000");
      kv_num(b, "tcp_port", db->info.tcp_port);
      kv_num(b, "server_time_usec", db->now * 1000);
      kv_num(b, "uptime_in_seconds", uptime);
      kv_num(b, "uptime_in_days", uptime / 86400);
      kv_num(b, "hz", 10);
      kv_str(b, "executable", "/ftguest.elf");
      kv_str(b, "config_file", "");
      break;
    case SEC_CLIENTS:
      kv_num(b, "connected_clients", (int64_t)db->stats.connected_clients);
      kv_num(b, "maxclients", db->info.max_clients);
      kv_num(b, "blocked_clients", 0);
      break;
    case SEC_MEMORY:
      kv_num(b, "used_memory", (int64_t)rd_used_memory());
      kv_num(b, "maxmemory", 0);
      kv_str(b, "maxmemory_policy", "noeviction");
      break;
    case SEC_PERSISTENCE: {
      const struct rd_aof* aof = db->aof;
      kv_num(b, "loading", 0);
      kv_num(b, "aof_enabled", aof != NULL);
      kv_num(b, "aof_rewrite_in_progress", 0);
      kv_str(b, "aof_last_write_status", aof && aof->error ? "err" : "ok");
      kv_num(b, "aof_records", aof ? (int64_t)aof->stats.records : 0);
      kv_num(b, "aof_commits", aof ? (int64_t)aof->stats.commits : 0);
      kv_num(b, "aof_sectors_written",
             aof ? (int64_t)aof->stats.sectors_written : 0);
      kv_num(b, "aof_replay_errors", (int64_t)db->stats.replay_errors);
      break;
    }
    case SEC_STATS:
      kv_num(b, "total_connections_received",
             (int64_t)db->stats.connections_received);
      kv_num(b, "total_commands_processed",
             (int64_t)db->stats.commands_processed);
      kv_num(b, "rejected_connections",
             (int64_t)db->stats.rejected_connections);
      kv_num(b, "keyspace_hits", (int64_t)db->stats.keyspace_hits);
      kv_num(b, "keyspace_misses", (int64_t)db->stats.keyspace_misses);
      break;
    case SEC_KEYSPACE: {
      size_t keys = rd_store_size(&db->store, db->now);
      if (keys == 0) break;
      char num[24];
      rd_buf_append_str(b, "db0:keys=");
      rd_buf_append(b, num, rd_ull2str(num, keys));
      rd_buf_append_str(b, ",expires=");
      rd_buf_append(b, num, rd_ull2str(num, rd_store_expires(&db->store)));
      rd_buf_append_str(b, ",avg_ttl=0\r\n");
      break;
    }
  }
}

void rd_cmd_info(struct rd_call* c) {
  bool want[NUM_SECTIONS] = {false};
  if (c->argc == 1) {
    for (int s = 0; s < NUM_SECTIONS; s++) want[s] = true;
  }
  for (size_t i = 1; i < c->argc; i++) {
    const char* a = c->argv[i];
    size_t n = c->argl[i];
    bool all = rd_arg_is(a, n, "all") || rd_arg_is(a, n, "default") ||
               rd_arg_is(a, n, "everything");
    for (int s = 0; s < NUM_SECTIONS; s++)
      if (all || rd_arg_is(a, n, kSections[s])) want[s] = true;
  }
  struct rd_buf text;
  rd_buf_init(&text);
  int emitted = 0;
  for (int s = 0; s < NUM_SECTIONS; s++) {
    if (!want[s]) continue;
    if (emitted++) rd_buf_append(&text, "\r\n", 2);
    rd_buf_append_str(&text, kTitles[s]);
    rd_buf_append(&text, "\r\n", 2);
    info_section(c->db, s, &text);
  }
  if (text.oom) {
    c->out->oom = true; /* the connection is dropped, like any OOM reply */
  } else {
    rd_reply_bulk(c->out, text.data, text.len);
  }
  rd_buf_free(&text);
}

/* ---- COMMAND ---- */

void rd_cmd_command(struct rd_call* c) {
  if (c->argc == 1) {
    /* The full command table with key specs is not implemented: an empty
     * table tells clients to fall back to their built-in knowledge. */
    rd_reply_array(c->out, 0);
    return;
  }
  const char* sub = c->argv[1];
  size_t n = c->argl[1];
  if (rd_arg_is(sub, n, "count")) {
    if (c->argc != 2)
      rd_reply_arity(c->out, "command|count");
    else
      rd_reply_int(c->out, (int64_t)rd_num_commands);
  } else if (rd_arg_is(sub, n, "docs")) {
    rd_reply_array(c->out, 0); /* redis-cli: no command hints */
  } else if (rd_arg_is(sub, n, "info")) {
    rd_reply_array(c->out, c->argc - 2);
    for (size_t i = 2; i < c->argc; i++) rd_reply_null(c->out);
  } else if (rd_arg_is(sub, n, "list")) {
    rd_reply_array(c->out, rd_num_commands);
    for (size_t i = 0; i < rd_num_commands; i++)
      rd_reply_bulk_str(c->out, rd_commands[i].name);
  } else {
    rd_buf_append_str(c->out, "-ERR unknown subcommand '");
    rd_append_sanitized(c->out, sub, n, 128);
    rd_buf_append_str(c->out, "'. Try COMMAND HELP.\r\n");
  }
}

/* ---- CONFIG ---- */

/* Redis's stringmatchlen for '*' and '?', ASCII case-insensitive. */
static bool glob_match(const char* p, size_t pn, const char* s, size_t sn) {
  while (pn > 0) {
    if (*p == '*') {
      while (pn > 1 && p[1] == '*') p++, pn--;
      if (pn == 1) return true;
      for (size_t i = 0; i <= sn; i++)
        if (glob_match(p + 1, pn - 1, s + i, sn - i)) return true;
      return false;
    }
    if (sn == 0) return false;
    char a = *p, b = *s;
    if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
    if (*p != '?' && a != b) return false;
    p++, pn--, s++, sn--;
  }
  return sn == 0;
}

static bool has_glob(const char* p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] == '*' || p[i] == '?' || p[i] == '[') return true;
  return false;
}

static void config_get(struct rd_call* c) {
  char port[24], clients[24], bulk[24];
  rd_ull2str(port, c->db->info.tcp_port);
  rd_ull2str(clients, c->db->info.max_clients);
  rd_ull2str(bulk, c->db->info.max_bulk);
  /* Plausible values: this server logs every write and syncs before
   * replying, which is what appendonly yes + appendfsync always mean. */
  const char* const table[][2] = {
      {"save", ""},
      {"appendonly", "yes"},
      {"appendfsync", "always"},
      {"databases", "1"},
      {"maxmemory", "0"},
      {"maxmemory-policy", "noeviction"},
      {"maxclients", clients},
      {"port", port},
      {"proto-max-bulk-len", bulk},
      {"timeout", "0"},
  };
  const size_t rows = sizeof(table) / sizeof(table[0]);
  bool hit[sizeof(table) / sizeof(table[0])] = {false};
  const char* name[sizeof(table) / sizeof(table[0])];
  size_t name_len[sizeof(table) / sizeof(table[0])];
  size_t count = 0;
  for (size_t i = 2; i < c->argc; i++) {
    const char* pat = c->argv[i];
    size_t pn = c->argl[i];
    for (size_t r = 0; r < rows; r++) {
      if (hit[r]) continue;
      size_t rn = strlen(table[r][0]);
      if (!glob_match(pat, pn, table[r][0], rn)) continue;
      hit[r] = true;
      count++;
      /* An exact name is echoed as the client spelled it (Redis does). */
      bool exact = !has_glob(pat, pn);
      name[r] = exact ? pat : table[r][0];
      name_len[r] = exact ? pn : rn;
    }
  }
  rd_reply_array(c->out, count * 2);
  for (size_t r = 0; r < rows; r++) {
    if (!hit[r]) continue;
    rd_reply_bulk(c->out, name[r], name_len[r]);
    rd_reply_bulk_str(c->out, table[r][1]);
  }
}

void rd_cmd_config(struct rd_call* c) {
  const char* sub = c->argv[1];
  size_t n = c->argl[1];
  if (rd_arg_is(sub, n, "get")) {
    if (c->argc < 3)
      rd_reply_arity(c->out, "config|get");
    else
      config_get(c);
  } else if (rd_arg_is(sub, n, "set")) {
    if (c->argc < 4 || c->argc % 2 != 0) {
      rd_reply_arity(c->out, "config|set");
      return;
    }
    /* Nothing is tunable at run time. */
    rd_buf_append_str(c->out,
                      "-ERR Unknown option or number of arguments for "
                      "CONFIG SET - '");
    rd_append_sanitized(c->out, c->argv[2], c->argl[2], SIZE_MAX);
    rd_buf_append_str(c->out, "'\r\n");
  } else if (rd_arg_is(sub, n, "resetstat")) {
    struct rd_stats* s = &c->db->stats;
    s->commands_processed = s->connections_received = 0;
    s->rejected_connections = s->keyspace_hits = s->keyspace_misses = 0;
    rd_reply_simple(c->out, "OK");
  } else {
    rd_buf_append_str(c->out, "-ERR unknown subcommand '");
    rd_append_sanitized(c->out, sub, n, 128);
    rd_buf_append_str(c->out, "'. Try CONFIG HELP.\r\n");
  }
}
