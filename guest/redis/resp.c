/* The RESP2 request parser, see resp.h (replies: resp_reply.c). */
#include "resp.h"

#include <string.h>

#include "rd_alloc.h"

/* ---- parser ---- */

void rd_resp_parser_init(struct rd_resp_parser* p,
                         const struct rd_resp_limits* lim) {
  memset(p, 0, sizeof(*p));
  if (lim != NULL) {
    p->lim = *lim;
  } else {
    p->lim.max_args = RD_RESP_DEFAULT_MAX_ARGS;
    p->lim.max_bulk = RD_RESP_DEFAULT_MAX_BULK;
    p->lim.max_inline = RD_RESP_DEFAULT_MAX_INLINE;
  }
  p->bulk_len = -1;
}

void rd_resp_parser_free(struct rd_resp_parser* p) {
  rd_free(p->off);
  rd_free(p->len);
  rd_free((void*)p->argv);
  rd_free(p->inl);
  p->off = p->len = NULL;
  p->argv = NULL;
  p->inl = NULL;
}

static enum rd_resp_status fail(struct rd_resp_parser* p, const char* text) {
  p->error = text;
  return RD_RESP_ERROR;
}

/* Grows the argument vectors to hold n entries. */
static bool ensure_args(struct rd_resp_parser* p, size_t n) {
  if (n <= p->cap) return true;
  size_t cap = p->cap ? p->cap : 8;
  while (cap < n) cap *= 2;
  size_t* off = rd_realloc(p->off, cap * sizeof(*off));
  if (off == NULL) return false;
  p->off = off;
  size_t* len = rd_realloc(p->len, cap * sizeof(*len));
  if (len == NULL) return false;
  p->len = len;
  const char** argv = rd_realloc((void*)p->argv, cap * sizeof(*argv));
  if (argv == NULL) return false;
  p->argv = argv;
  p->cap = cap;
  return true;
}

static void reset_request(struct rd_resp_parser* p) {
  p->type = 0;
  p->pos = 0;
  p->scan = 0;
  p->mb_left = 0;
  p->bulk_len = -1;
  p->argc = 0;
}

/* Finds c in data[from..len) starting the search at *scan (bytes before it
 * were searched already); returns its index or -1 and remembers progress. */
static long find_char(struct rd_resp_parser* p, const char* data, size_t len,
                      char c) {
  size_t i = p->scan > p->pos ? p->scan : p->pos;
  const char* hit = i < len ? memchr(data + i, c, len - i) : NULL;
  if (hit == NULL) {
    p->scan = len;
    return -1;
  }
  p->scan = 0;
  return (long)(hit - data);
}

static enum rd_resp_status parse_multibulk(struct rd_resp_parser* p,
                                           const char* data, size_t len) {
  if (p->mb_left == 0) { /* the *<count> line */
    long cr = find_char(p, data, len, '\r');
    if (cr < 0) {
      if (len - p->pos > p->lim.max_inline)
        return fail(p, "Protocol error: too big mbulk count string");
      return RD_RESP_MORE;
    }
    /* Redis skips the two bytes after the count without looking at them. */
    if ((size_t)cr + 2 > len) {
      p->scan = (size_t)cr;
      return RD_RESP_MORE;
    }
    int64_t n;
    if (!rd_str2ll(data + p->pos + 1, (size_t)cr - p->pos - 1, &n) ||
        n > INT32_MAX || (n > 0 && (uint64_t)n > p->lim.max_args))
      return fail(p, "Protocol error: invalid multibulk length");
    p->pos = (size_t)cr + 2;
    if (n <= 0) return RD_RESP_CMD; /* empty request: skipped by caller */
    p->mb_left = n;
  }
  while (p->mb_left > 0) {
    if (p->bulk_len < 0) { /* the $<len> line */
      long cr = find_char(p, data, len, '\r');
      if (cr < 0) {
        if (len - p->pos > p->lim.max_inline)
          return fail(p, "Protocol error: too big bulk count string");
        return RD_RESP_MORE;
      }
      if ((size_t)cr + 2 > len) {
        p->scan = (size_t)cr;
        return RD_RESP_MORE;
      }
      if (data[p->pos] != '$') {
        memcpy(p->errbuf, "Protocol error: expected '$', got ' '", 38);
        /* Redis maps CR and LF in error texts to spaces (valid protocol). */
        char got = data[p->pos];
        p->errbuf[35] = got == '\r' || got == '\n' ? ' ' : got;
        return fail(p, p->errbuf);
      }
      int64_t n;
      if (!rd_str2ll(data + p->pos + 1, (size_t)cr - p->pos - 1, &n) || n < 0 ||
          (uint64_t)n > p->lim.max_bulk)
        return fail(p, "Protocol error: invalid bulk length");
      p->pos = (size_t)cr + 2;
      p->bulk_len = n;
    }
    /* Like Redis, the two bytes after the data are skipped, not checked. */
    if (len - p->pos < (size_t)p->bulk_len + 2) return RD_RESP_MORE;
    /* The vector grows as arguments arrive (a count alone pins no memory);
     * after RD_RESP_NOMEM the same bytes can be parsed again. */
    if (p->argc == p->cap && !ensure_args(p, p->argc + 1)) return RD_RESP_NOMEM;
    p->off[p->argc] = p->pos;
    p->len[p->argc] = (size_t)p->bulk_len;
    p->argc++;
    p->pos += (size_t)p->bulk_len + 2;
    p->bulk_len = -1;
    p->mb_left--;
  }
  return RD_RESP_CMD;
}

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Redis sdssplitargs over line[0..n) (a NUL ends the line, as in Redis's C
 * string). Arguments are written unescaped into p->inl. Returns 1, 0 on
 * unbalanced quotes, -1 if the argument vector cannot grow. */
static int split_inline(struct rd_resp_parser* p, const char* line, size_t n) {
  const char* nul = memchr(line, '\0', n);
  if (nul != NULL) n = (size_t)(nul - line);
  char* out = p->inl; /* unescaping never lengthens the text */
  size_t o = 0, i = 0;
#define AT(k) ((k) < n ? line[k] : '\0')
  for (;;) {
    while (i < n && is_space(line[i])) i++;
    if (i >= n) return 1;
    if (p->argc == p->cap && !ensure_args(p, p->argc + 1)) return -1;
    p->off[p->argc] = o;
    bool inq = false, insq = false;
    for (bool done = false; !done;) {
      char c = AT(i);
      if (inq) {
        if (c == '\\' && AT(i + 1) == 'x' && hex_value(AT(i + 2)) >= 0 &&
            hex_value(AT(i + 3)) >= 0) {
          out[o++] = (char)(hex_value(AT(i + 2)) * 16 + hex_value(AT(i + 3)));
          i += 3;
        } else if (c == '\\' && AT(i + 1) != '\0') {
          i++;
          char e = AT(i);
          out[o++] = e == 'n'   ? '\n'
                     : e == 'r' ? '\r'
                     : e == 't' ? '\t'
                     : e == 'b' ? '\b'
                     : e == 'a' ? '\a'
                                : e;
        } else if (c == '"') {
          if (AT(i + 1) != '\0' && !is_space(AT(i + 1))) return 0;
          done = true;
        } else if (c == '\0') {
          return 0;
        } else {
          out[o++] = c;
        }
      } else if (insq) {
        if (c == '\\' && AT(i + 1) == '\'') {
          i++;
          out[o++] = '\'';
        } else if (c == '\'') {
          if (AT(i + 1) != '\0' && !is_space(AT(i + 1))) return 0;
          done = true;
        } else if (c == '\0') {
          return 0;
        } else {
          out[o++] = c;
        }
      } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') {
        done = true;
      } else if (c == '"') {
        inq = true;
      } else if (c == '\'') {
        insq = true;
      } else {
        out[o++] = c;
      }
      if (i < n) i++;
    }
    p->len[p->argc] = o - p->off[p->argc];
    p->argc++;
  }
#undef AT
}

static enum rd_resp_status parse_inline(struct rd_resp_parser* p,
                                        const char* data, size_t len) {
  long nl = find_char(p, data, len, '\n');
  if (nl < 0) {
    if (len > p->lim.max_inline)
      return fail(p, "Protocol error: too big inline request");
    return RD_RESP_MORE;
  }
  size_t end = (size_t)nl;
  if (end > 0 && data[end - 1] == '\r') end--;
  if (end + 1 > p->inl_cap) {
    char* inl = rd_realloc(p->inl, end + 1);
    if (inl == NULL) return RD_RESP_NOMEM;
    p->inl = inl;
    p->inl_cap = end + 1;
  }
  p->argc = 0;
  int split = split_inline(p, data, end);
  if (split < 0) return RD_RESP_NOMEM;
  if (split == 0)
    return fail(p, "Protocol error: unbalanced quotes in request");
  p->pos = (size_t)nl + 1;
  return RD_RESP_CMD;
}

enum rd_resp_status rd_resp_parse(struct rd_resp_parser* p, const char* data,
                                  size_t len, struct rd_resp_cmd* cmd,
                                  size_t* consumed) {
  *consumed = 0;
  if (p->error != NULL) return RD_RESP_ERROR;
  for (;;) {
    const char* req = data + *consumed;
    size_t avail = len - *consumed;
    if (p->type == 0) {
      if (avail == 0) return RD_RESP_MORE;
      p->type = req[0] == '*' ? 1 : 2;
    }
    enum rd_resp_status st = p->type == 1 ? parse_multibulk(p, req, avail)
                                          : parse_inline(p, req, avail);
    if (st != RD_RESP_CMD) return st;
    size_t used = p->pos;
    size_t argc = p->argc;
    const char* base = p->type == 1 ? req : p->inl;
    reset_request(p);
    *consumed += used;
    if (argc == 0) continue; /* "*0", "*-1", blank line: nothing to run */
    for (size_t i = 0; i < argc; i++) p->argv[i] = base + p->off[i];
    cmd->argc = argc;
    cmd->argv = p->argv;
    cmd->argl = p->len;
    return RD_RESP_CMD;
  }
}

const char* rd_resp_error(const struct rd_resp_parser* p) { return p->error; }
