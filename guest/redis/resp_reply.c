/* The byte buffer, Redis's number rules and the reply builder, see
 * resp.h. (The request parser is in resp.c.) */
#include <string.h>

#include "rd_alloc.h"
#include "resp.h"

/* ---- rd_buf ---- */

void rd_buf_init(struct rd_buf* b) { memset(b, 0, sizeof(*b)); }

void rd_buf_free(struct rd_buf* b) {
  rd_free(b->data);
  rd_buf_init(b);
}

bool rd_buf_reserve(struct rd_buf* b, size_t extra) {
  if (b->oom) return false;
  if (b->cap - b->len >= extra) return true;
  size_t need = b->len + extra;
  if (need < b->len) goto fail; /* overflow */
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > ((size_t)-1) / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  char* d = rd_realloc(b->data, cap);
  if (d == NULL) goto fail;
  b->data = d;
  b->cap = cap;
  return true;
fail:
  /* Sticky: a reply with a hole in it must never be sent. */
  b->oom = true;
  return false;
}

bool rd_buf_append(struct rd_buf* b, const void* p, size_t n) {
  if (!rd_buf_reserve(b, n)) return false;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  return true;
}

bool rd_buf_append_str(struct rd_buf* b, const char* s) {
  return rd_buf_append(b, s, strlen(s));
}

void rd_buf_consume(struct rd_buf* b, size_t n) {
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

/* ---- numbers ---- */

bool rd_str2ll(const char* s, size_t n, int64_t* out) {
  /* A transcription of Redis util.c string2ll, so INCR, EX and protocol
   * lengths accept and refuse exactly what Redis does. */
  if (n == 0 || n > 20) return false;
  if (n == 1 && s[0] == '0') {
    *out = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    if (++i == n) return false;
  }
  if (s[i] < '1' || s[i] > '9') return false;
  uint64_t v = (uint64_t)(s[i++] - '0');
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > UINT64_MAX / 10) return false;
    v *= 10;
    if (v > UINT64_MAX - d) return false;
    v += d;
  }
  if (negative) {
    if (v > (uint64_t)INT64_MAX + 1) return false;
    *out = (int64_t)(0 - v);
  } else {
    if (v > (uint64_t)INT64_MAX) return false;
    *out = (int64_t)v;
  }
  return true;
}

size_t rd_ull2str(char* buf, uint64_t v) {
  char tmp[21];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  buf[n] = '\0';
  return n;
}

size_t rd_ll2str(char* buf, int64_t v) {
  if (v >= 0) return rd_ull2str(buf, (uint64_t)v);
  buf[0] = '-';
  return 1 + rd_ull2str(buf + 1, 0 - (uint64_t)v);
}

/* ---- replies ---- */

static void reply_line(struct rd_buf* b, char type, const char* s, size_t n) {
  if (!rd_buf_reserve(b, n + 3)) return;
  b->data[b->len++] = type;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len++] = '\r';
  b->data[b->len++] = '\n';
}

static void reply_number(struct rd_buf* b, char type, int64_t v) {
  char num[24];
  reply_line(b, type, num, rd_ll2str(num, v));
}

void rd_reply_simple(struct rd_buf* b, const char* s) {
  reply_line(b, '+', s, strlen(s));
}

void rd_reply_error(struct rd_buf* b, const char* s) {
  reply_line(b, '-', s, strlen(s));
}

void rd_reply_int(struct rd_buf* b, int64_t v) { reply_number(b, ':', v); }

void rd_reply_bulk(struct rd_buf* b, const void* p, size_t n) {
  if (!rd_buf_reserve(b, n + 26)) return;
  reply_number(b, '$', (int64_t)n);
  rd_buf_append(b, p, n);
  rd_buf_append(b, "\r\n", 2);
}

void rd_reply_bulk_str(struct rd_buf* b, const char* s) {
  rd_reply_bulk(b, s, strlen(s));
}

void rd_reply_null(struct rd_buf* b) { rd_buf_append(b, "$-1\r\n", 5); }

void rd_reply_array(struct rd_buf* b, size_t n) {
  reply_number(b, '*', (int64_t)n);
}

void rd_encode_command(struct rd_buf* b, size_t argc, const char* const* argv,
                       const size_t* argl) {
  rd_reply_array(b, argc);
  for (size_t i = 0; i < argc; i++) rd_reply_bulk(b, argv[i], argl[i]);
}
