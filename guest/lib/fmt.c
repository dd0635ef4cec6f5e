/* Minimal printf-style formatting, see fmt.h. */
#include "lib/fmt.h"

#include <stdbool.h>
#include <stdint.h>

#include "lib/serial.h"
#include "lib/string.h"

struct spec {
  bool zero_pad;
  bool left;
  unsigned width;
};

static void emit_padded(ftg_emit_fn emit, void* ctx, const struct spec* sp,
                        const char* s, size_t n) {
  size_t pad = sp->width > n ? sp->width - n : 0;
  char pad_char = sp->zero_pad && !sp->left ? '0' : ' ';
  /* Zero padding goes after a sign: "-0042". */
  if (pad_char == '0' && n > 0 && s[0] == '-') {
    emit(ctx, '-');
    s++;
    n--;
  }
  if (!sp->left)
    for (size_t i = 0; i < pad; i++) emit(ctx, pad_char);
  for (size_t i = 0; i < n; i++) emit(ctx, s[i]);
  if (sp->left)
    for (size_t i = 0; i < pad; i++) emit(ctx, ' ');
}

/* Writes v in base (10 or 16) right-aligned into buf[0..24); returns start. */
static char* utoa(uint64_t v, unsigned base, bool upper, char* end) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char* p = end;
  do {
    *--p = digits[v % base];
    v /= base;
  } while (v != 0);
  return p;
}

void ftg_vformat(ftg_emit_fn emit, void* ctx, const char* fmt, va_list ap) {
  char buf[24];
  char* end = buf + sizeof(buf);
  for (const char* f = fmt; *f; f++) {
    if (*f != '%') {
      emit(ctx, *f);
      continue;
    }
    struct spec sp = {false, false, 0};
    for (f++;; f++) {
      if (*f == '0')
        sp.zero_pad = true;
      else if (*f == '-')
        sp.left = true;
      else
        break;
    }
    while (*f >= '0' && *f <= '9')
      sp.width = sp.width * 10 + (unsigned)(*f++ - '0');
    int longs = 0;
    while (*f == 'l' || *f == 'z') {
      longs += *f == 'z' ? 2 : 1;
      f++;
    }
    switch (*f) {
      case 'd':
      case 'i': {
        int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
        uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
        char* s = utoa(mag, 10, false, end);
        if (v < 0) *--s = '-';
        emit_padded(emit, ctx, &sp, s, (size_t)(end - s));
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
        char* s = utoa(v, *f == 'u' ? 10 : 16, *f == 'X', end);
        emit_padded(emit, ctx, &sp, s, (size_t)(end - s));
        break;
      }
      case 'p': {
        char* s = utoa((uint64_t)(uintptr_t)va_arg(ap, void*), 16, false, end);
        *--s = 'x';
        *--s = '0';
        emit_padded(emit, ctx, &sp, s, (size_t)(end - s));
        break;
      }
      case 'c': {
        char c = (char)va_arg(ap, int);
        emit_padded(emit, ctx, &sp, &c, 1);
        break;
      }
      case 's': {
        const char* s = va_arg(ap, const char*);
        if (s == NULL) s = "(null)";
        emit_padded(emit, ctx, &sp, s, strlen(s));
        break;
      }
      case '%':
        emit(ctx, '%');
        break;
      case '\0':
        return;
      default: /* unknown conversion: show it rather than guess */
        emit(ctx, '%');
        emit(ctx, *f);
        break;
    }
  }
}

struct buf_ctx {
  char* buf;
  size_t size;
  size_t len;
};

static void emit_buf(void* ctx, char c) {
  struct buf_ctx* b = ctx;
  if (b->len + 1 < b->size) b->buf[b->len] = c;
  b->len++;
}

size_t ftg_snprintf(char* buf, size_t size, const char* fmt, ...) {
  struct buf_ctx b = {buf, size, 0};
  va_list ap;
  va_start(ap, fmt);
  ftg_vformat(emit_buf, &b, fmt, ap);
  va_end(ap);
  if (size > 0) buf[b.len < size ? b.len : size - 1] = '\0';
  return b.len;
}

/* One FIFO's worth: each flush is one THRE wait plus up to 16 writes. */
struct serial_ctx {
  char chunk[16];
  size_t len;
};

static void emit_serial(void* ctx, char c) {
  struct serial_ctx* s = ctx;
  s->chunk[s->len++] = c;
  if (s->len == sizeof(s->chunk)) {
    ftg_serial_write(s->chunk, s->len);
    s->len = 0;
  }
}

void ftg_printf(const char* fmt, ...) {
  struct serial_ctx s;
  s.len = 0;
  va_list ap;
  va_start(ap, fmt);
  ftg_vformat(emit_serial, &s, fmt, ap);
  va_end(ap);
  if (s.len > 0) ftg_serial_write(s.chunk, s.len);
}
