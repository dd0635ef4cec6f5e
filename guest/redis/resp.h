/*
 * RESP2, the Redis wire protocol: an incremental request parser and a reply
 * builder. Portable C (guest and host tests), no allocation except through
 * rd_alloc.h.
 *
 * Requests come in two forms, exactly as Redis 7.0 accepts them
 * (networking.c, processMultibulkBuffer / processInlineBuffer):
 *   - multibulk: *<n>\r\n then n times $<len>\r\n<len bytes>\r\n (what
 *     redis-cli and redis-benchmark send);
 *   - inline: one line of space-separated words with "..." / '...' quoting
 *     (what telnet users and redis-benchmark's PING_INLINE send).
 * Many requests may share one read (pipelining) and one request may be split
 * over any number of reads: the parser keeps its position, so bytes are
 * examined once, and the caller keeps the unconsumed bytes.
 *
 * Errors are reported with Redis's exact text ("Protocol error: ..."); the
 * server replies "-ERR <text>" and closes the connection, as Redis does.
 */
#ifndef FTGUEST_REDIS_RESP_H_
#define FTGUEST_REDIS_RESP_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- growable byte buffer (replies, query buffers, log records) ---- */

struct rd_buf {
  char* data;
  size_t len;
  size_t cap;
  bool oom; /* an append failed: the content is incomplete */
};

void rd_buf_init(struct rd_buf* b);
void rd_buf_free(struct rd_buf* b);
/* Makes room for `extra` more bytes; false (and oom set) if it cannot. */
bool rd_buf_reserve(struct rd_buf* b, size_t extra);
bool rd_buf_append(struct rd_buf* b, const void* p, size_t n);
bool rd_buf_append_str(struct rd_buf* b, const char* s);
/* Drops the first n bytes (n <= len). */
void rd_buf_consume(struct rd_buf* b, size_t n);

/* ---- numbers, with Redis's exact rules ---- */

/* Redis string2ll: optional '-', no '+', no leading zeros (except "0"), no
 * spaces, at most 20 characters, within int64. */
bool rd_str2ll(const char* s, size_t n, int64_t* out);
/* Decimal text of v into buf (at least 21 bytes); returns the length. */
size_t rd_ll2str(char* buf, int64_t v);
size_t rd_ull2str(char* buf, uint64_t v);

/* ---- replies ---- */

void rd_reply_simple(struct rd_buf* b, const char* s); /* +s */
void rd_reply_error(struct rd_buf* b, const char* s);  /* -s ("ERR ...") */
void rd_reply_int(struct rd_buf* b, int64_t v);        /* :v */
void rd_reply_bulk(struct rd_buf* b, const void* p, size_t n);
void rd_reply_bulk_str(struct rd_buf* b, const char* s);
void rd_reply_null(struct rd_buf* b);            /* $-1 */
void rd_reply_array(struct rd_buf* b, size_t n); /* *n, then n items */
/* Writes one request as a multibulk array (the AOF payload format). */
void rd_encode_command(struct rd_buf* b, size_t argc, const char* const* argv,
                       const size_t* argl);

/* ---- request parser ---- */

struct rd_resp_limits {
  size_t max_args;   /* arguments per request ("invalid multibulk length") */
  size_t max_bulk;   /* bytes per argument ("invalid bulk length") */
  size_t max_inline; /* an inline request or a count line without its end */
};

/* Redis's PROTO_INLINE_MAX_SIZE and INT_MAX / 512 MiB would let one client
 * pin gigabytes; the guest uses these unless configured otherwise. */
#define RD_RESP_DEFAULT_MAX_ARGS (1024u * 1024u)
#define RD_RESP_DEFAULT_MAX_BULK (1024u * 1024u)
#define RD_RESP_DEFAULT_MAX_INLINE (64u * 1024u)

struct rd_resp_cmd {
  size_t argc;
  const char* const* argv; /* argv[i] has argl[i] bytes, binary safe */
  const size_t* argl;
};

enum rd_resp_status {
  RD_RESP_MORE = 0,   /* need more bytes; *consumed may still be > 0 */
  RD_RESP_CMD = 1,    /* one request in *cmd */
  RD_RESP_ERROR = -1, /* protocol error: rd_resp_error() says which */
  RD_RESP_NOMEM = -2, /* out of memory for the argument vector */
};

struct rd_resp_parser {
  struct rd_resp_limits lim;
  int type;         /* 0: between requests, 1: multibulk, 2: inline */
  size_t pos;       /* bytes of the current request already examined */
  size_t scan;      /* where the search for the current line's end resumes */
  int64_t mb_left;  /* bulks still to read */
  int64_t bulk_len; /* length of the bulk being read, -1 before its header */
  size_t argc;
  size_t cap;
  size_t* off; /* argument offsets, relative to the request's start */
  size_t* len;
  const char** argv; /* filled in when a request is complete */
  char* inl;         /* unescaped inline arguments */
  size_t inl_cap;
  const char* error;
  char errbuf[48];
};

void rd_resp_parser_init(struct rd_resp_parser* p,
                         const struct rd_resp_limits* lim);
void rd_resp_parser_free(struct rd_resp_parser* p);

/*
 * Parses the next request from data[0..len), which must start with the
 * bytes the previous call left unconsumed (then anything received since).
 * *consumed is how many leading bytes the caller may now drop: the request
 * returned plus any empty requests skipped before it (Redis ignores "*0",
 * "*-1" and blank inline lines). On RD_RESP_CMD, cmd points into data (and
 * into the parser for inline requests) until the next call.
 */
enum rd_resp_status rd_resp_parse(struct rd_resp_parser* p, const char* data,
                                  size_t len, struct rd_resp_cmd* cmd,
                                  size_t* consumed);

/* The error text after RD_RESP_ERROR, without "ERR ": the reply is
 * "-ERR " + text. The parser stays in the error state. */
const char* rd_resp_error(const struct rd_resp_parser* p);

#ifdef __cplusplus
}
#endif

#endif /* FTGUEST_REDIS_RESP_H_ */
