/* Internal to commands*.c: the per-call context and shared helpers. */
#ifndef FTGUEST_REDIS_COMMANDS_INT_H_
#define FTGUEST_REDIS_COMMANDS_INT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands.h"

struct rd_call {
  struct rd_db* db;
  struct rd_client* client;
  size_t argc;
  const char* const* argv;
  const size_t* argl;
  struct rd_buf* out;
};

struct rd_command {
  const char* name; /* lower case, as Redis names it in errors */
  int arity;        /* > 0: exactly; < 0: at least -arity arguments */
  void (*fn)(struct rd_call* c);
};

extern const struct rd_command rd_commands[];
extern const size_t rd_num_commands;

extern const char rd_err_syntax[];
extern const char rd_err_not_int[];

/* Case-insensitive comparison of an argument with a lower-case literal. */
bool rd_arg_is(const char* arg, size_t len, const char* lit);
/* Appends s[0..n) as Redis's "%.<max>s" would print it inside an error:
 * up to the first NUL, at most max bytes, CR and LF as spaces (an error
 * reply must stay one line). */
void rd_append_sanitized(struct rd_buf* out, const char* s, size_t n,
                         size_t max);
/* "-ERR wrong number of arguments for '<name>' command". */
void rd_reply_arity(struct rd_buf* out, const char* name);

/* Commands in commands_write.c. */
void rd_cmd_set(struct rd_call* c);
void rd_cmd_incr(struct rd_call* c);
void rd_cmd_decr(struct rd_call* c);
void rd_cmd_incrby(struct rd_call* c);
void rd_cmd_decrby(struct rd_call* c);
void rd_cmd_append(struct rd_call* c);
void rd_cmd_del(struct rd_call* c);
void rd_cmd_mset(struct rd_call* c);
void rd_cmd_flushall(struct rd_call* c);

/* Commands in commands_server.c. */
void rd_cmd_ping(struct rd_call* c);
void rd_cmd_echo(struct rd_call* c);
void rd_cmd_select(struct rd_call* c);
void rd_cmd_quit(struct rd_call* c);
void rd_cmd_shutdown(struct rd_call* c);
void rd_cmd_info(struct rd_call* c);
void rd_cmd_command(struct rd_call* c);
void rd_cmd_config(struct rd_call* c);

#endif /* FTGUEST_REDIS_COMMANDS_INT_H_ */
