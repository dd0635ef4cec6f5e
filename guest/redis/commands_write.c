/*
 * The commands that change data: SET, INCR/INCRBY/DECR/DECRBY, APPEND, DEL,
 * MSET, FLUSHALL. Each reserves room in the log before touching the store
 * and appends its record only after the change succeeded (commands.h).
 * Replies and error texts follow Redis 7.0 (t_string.c, db.c).
 */
#include <string.h>

#include "aof.h"
#include "commands_int.h"

static const char kErrOverflow[] = "ERR increment or decrement would overflow";
static const char kErrOom[] =
    "OOM command not allowed when used memory > 'maxmemory'.";

/* ---- the log: reserve before changing anything, append after ---- */

static bool log_reserve(struct rd_call* c, size_t argc, const char* const* argv,
                        const size_t* argl) {
  (void)argv;
  if (c->db->aof == NULL) return true;
  const char* err = rd_aof_reserve(c->db->aof, rd_aof_command_size(argc, argl));
  if (err != NULL) rd_reply_error(c->out, err);
  return err == NULL;
}

static void log_append(struct rd_call* c, size_t argc, const char* const* argv,
                       const size_t* argl) {
  if (c->db->aof != NULL)
    rd_aof_append(c->db->aof, c->db->now, argc, argv, argl);
}

/* ---- writes ---- */

enum {
  SET_NX = 1,
  SET_XX = 2,
  SET_GET = 4,
  SET_KEEPTTL = 8,
  SET_EX = 16,
  SET_PX = 32,
  SET_EXAT = 64,
  SET_PXAT = 128,
};
#define SET_ANY_EXPIRE (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/* Redis's parseExtendedStringArgumentsOrReply for SET, same precedence. */
static bool parse_set_flags(struct rd_call* c, int* flags, size_t* exp_arg) {
  for (size_t j = 3; j < c->argc; j++) {
    const char* o = c->argv[j];
    size_t n = c->argl[j];
    bool has_next = j + 1 < c->argc;
    int f = *flags;
    if (rd_arg_is(o, n, "nx") && !(f & SET_XX)) {
      *flags |= SET_NX;
    } else if (rd_arg_is(o, n, "xx") && !(f & SET_NX)) {
      *flags |= SET_XX;
    } else if (rd_arg_is(o, n, "get")) {
      *flags |= SET_GET;
    } else if (rd_arg_is(o, n, "keepttl") && !(f & SET_ANY_EXPIRE)) {
      *flags |= SET_KEEPTTL;
    } else if (rd_arg_is(o, n, "ex") && has_next &&
               !(f & (SET_KEEPTTL | SET_PX | SET_EXAT | SET_PXAT))) {
      *flags |= SET_EX;
      *exp_arg = ++j;
    } else if (rd_arg_is(o, n, "px") && has_next &&
               !(f & (SET_KEEPTTL | SET_EX | SET_EXAT | SET_PXAT))) {
      *flags |= SET_PX;
      *exp_arg = ++j;
    } else if (rd_arg_is(o, n, "exat") && has_next &&
               !(f & (SET_KEEPTTL | SET_EX | SET_PX | SET_PXAT))) {
      *flags |= SET_EXAT;
      *exp_arg = ++j;
    } else if (rd_arg_is(o, n, "pxat") && has_next &&
               !(f & (SET_KEEPTTL | SET_EX | SET_PX | SET_EXAT))) {
      *flags |= SET_PXAT;
      *exp_arg = ++j;
    } else {
      rd_reply_error(c->out, rd_err_syntax);
      return false;
    }
  }
  return true;
}

/* The absolute expiry in ms, or RD_NO_EXPIRE; false after replying. */
static bool set_expiry(struct rd_call* c, int flags, size_t arg, int64_t* at) {
  *at = RD_NO_EXPIRE;
  if (!(flags & SET_ANY_EXPIRE)) return true;
  int64_t v;
  if (!rd_str2ll(c->argv[arg], c->argl[arg], &v)) {
    rd_reply_error(c->out, rd_err_not_int);
    return false;
  }
  bool seconds = flags & (SET_EX | SET_EXAT);
  bool relative = flags & (SET_EX | SET_PX);
  if (v <= 0 || (seconds && v > INT64_MAX / 1000)) goto invalid;
  if (seconds) v *= 1000;
  if (relative) {
    if (v > INT64_MAX - c->db->now) goto invalid;
    v += c->db->now;
  }
  *at = v;
  return true;
invalid:
  rd_reply_error(c->out, "ERR invalid expire time in 'set' command");
  return false;
}

void rd_cmd_set(struct rd_call* c) {
  struct rd_db* db = c->db;
  int flags = 0;
  size_t exp_arg = 0;
  int64_t at;
  if (!parse_set_flags(c, &flags, &exp_arg) ||
      !set_expiry(c, flags, exp_arg, &at))
    return;
  size_t mark = c->out->len; /* the GET reply is withdrawn on failure */
  const char* old;
  size_t old_len;
  bool found =
      rd_store_get(&db->store, c->argv[1], c->argl[1], db->now, &old, &old_len);
  if (flags & SET_GET) {
    if (found)
      rd_reply_bulk(c->out, old, old_len);
    else
      rd_reply_null(c->out);
  }
  if (((flags & SET_NX) && found) || ((flags & SET_XX) && !found)) {
    if (!(flags & SET_GET)) rd_reply_null(c->out);
    return;
  }
  /* Logged as SET key value [PXAT ms | KEEPTTL]: absolute, so the replay
   * (at the record's time) sets exactly the same expiry. */
  char num[24];
  const char* argv[5] = {"SET", c->argv[1], c->argv[2], NULL, NULL};
  size_t argl[5] = {3, c->argl[1], c->argl[2], 0, 0};
  size_t argc = 3;
  if (at != RD_NO_EXPIRE) {
    argv[3] = "PXAT";
    argl[3] = 4;
    argv[4] = num;
    argl[4] = rd_ll2str(num, at);
    argc = 5;
  } else if (flags & SET_KEEPTTL) {
    argv[3] = "KEEPTTL";
    argl[3] = 7;
    argc = 4;
  }
  size_t err_start = c->out->len;
  bool ok = log_reserve(c, argc, argv, argl);
  if (ok && !rd_store_set(&db->store, c->argv[1], c->argl[1], c->argv[2],
                          c->argl[2], at, flags & SET_KEEPTTL, db->now)) {
    rd_reply_error(c->out, kErrOom);
    ok = false;
  }
  if (!ok) {
    /* Only the error is the reply: drop a GET reply written before it. */
    if ((flags & SET_GET) && c->out->data != NULL) {
      size_t n = c->out->len - err_start;
      memmove(c->out->data + mark, c->out->data + err_start, n);
      c->out->len = mark + n;
    }
    return;
  }
  if (!(flags & SET_GET)) rd_reply_simple(c->out, "OK");
  log_append(c, argc, argv, argl);
}

static void incr_generic(struct rd_call* c, int64_t delta) {
  struct rd_db* db = c->db;
  const char* v;
  size_t n;
  int64_t old = 0;
  bool found =
      rd_store_get(&db->store, c->argv[1], c->argl[1], db->now, &v, &n);
  if (found && !rd_str2ll(v, n, &old)) {
    rd_reply_error(c->out, rd_err_not_int);
    return;
  }
  if ((delta < 0 && old < 0 && delta < INT64_MIN - old) ||
      (delta > 0 && old > 0 && delta > INT64_MAX - old)) {
    rd_reply_error(c->out, kErrOverflow);
    return;
  }
  int64_t now_value = old + delta;
  char num[24];
  size_t len = rd_ll2str(num, now_value);
  if (!log_reserve(c, c->argc, c->argv, c->argl)) return;
  /* INCR keeps the key's expiry, as Redis does. */
  bool ok = found ? rd_store_replace(&db->store, c->argv[1], c->argl[1], num,
                                     len, db->now)
                  : rd_store_set(&db->store, c->argv[1], c->argl[1], num, len,
                                 RD_NO_EXPIRE, false, db->now);
  if (!ok) {
    rd_reply_error(c->out, kErrOom);
    return;
  }
  rd_reply_int(c->out, now_value);
  log_append(c, c->argc, c->argv, c->argl);
}

void rd_cmd_incr(struct rd_call* c) { incr_generic(c, 1); }
void rd_cmd_decr(struct rd_call* c) { incr_generic(c, -1); }

void rd_cmd_incrby(struct rd_call* c) {
  int64_t by;
  if (!rd_str2ll(c->argv[2], c->argl[2], &by)) {
    rd_reply_error(c->out, rd_err_not_int);
    return;
  }
  incr_generic(c, by);
}

void rd_cmd_decrby(struct rd_call* c) {
  int64_t by;
  if (!rd_str2ll(c->argv[2], c->argl[2], &by)) {
    rd_reply_error(c->out, rd_err_not_int);
    return;
  }
  if (by == INT64_MIN) {
    rd_reply_error(c->out, "ERR decrement would overflow");
    return;
  }
  incr_generic(c, -by);
}

void rd_cmd_append(struct rd_call* c) {
  size_t newlen;
  if (!log_reserve(c, c->argc, c->argv, c->argl)) return;
  if (!rd_store_append(&c->db->store, c->argv[1], c->argl[1], c->argv[2],
                       c->argl[2], c->db->now, &newlen)) {
    rd_reply_error(c->out, kErrOom);
    return;
  }
  rd_reply_int(c->out, (int64_t)newlen);
  log_append(c, c->argc, c->argv, c->argl);
}

void rd_cmd_del(struct rd_call* c) {
  if (!log_reserve(c, c->argc, c->argv, c->argl)) return;
  int64_t deleted = 0;
  for (size_t i = 1; i < c->argc; i++)
    deleted += rd_store_del(&c->db->store, c->argv[i], c->argl[i], c->db->now);
  rd_reply_int(c->out, deleted);
  if (deleted > 0) log_append(c, c->argc, c->argv, c->argl);
}

void rd_cmd_mset(struct rd_call* c) {
  if (c->argc % 2 == 0) {
    rd_reply_arity(c->out, "mset");
    return;
  }
  if (!log_reserve(c, c->argc, c->argv, c->argl)) return;
  size_t done = 1;
  for (; done < c->argc; done += 2)
    if (!rd_store_set(&c->db->store, c->argv[done], c->argl[done],
                      c->argv[done + 1], c->argl[done + 1], RD_NO_EXPIRE, false,
                      c->db->now))
      break;
  /* Out of memory part way: the pairs already set stay set, and exactly
   * those are logged, so the log still describes the memory. */
  if (done > 1) log_append(c, done, c->argv, c->argl);
  if (done < c->argc)
    rd_reply_error(c->out, kErrOom);
  else
    rd_reply_simple(c->out, "OK");
}

void rd_cmd_flushall(struct rd_call* c) {
  if (c->argc > 2 ||
      (c->argc == 2 && !rd_arg_is(c->argv[1], c->argl[1], "sync") &&
       !rd_arg_is(c->argv[1], c->argl[1], "async"))) {
    rd_reply_error(c->out, rd_err_syntax);
    return;
  }
  static const char* const argv[1] = {"FLUSHALL"};
  static const size_t argl[1] = {8};
  if (!log_reserve(c, 1, argv, argl)) return;
  rd_store_flush(&c->db->store);
  rd_reply_simple(c->out, "OK");
  log_append(c, 1, argv, argl);
}
