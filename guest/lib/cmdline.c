/* Command-line tokenizing, see cmdline.h. */
#include "lib/cmdline.h"

#include "lib/string.h"

static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

const char* ftg_cmdline_next(const char* pos, const char* key,
                             struct ftg_str* value) {
  size_t key_len = strlen(key);
  const char* p = pos;
  while (*p) {
    while (is_space(*p)) p++;
    const char* tok = p;
    while (*p && !is_space(*p)) p++;
    size_t tok_len = (size_t)(p - tok);
    if (tok_len < key_len || memcmp(tok, key, key_len) != 0) continue;
    if (tok_len == key_len) {
      *value = (struct ftg_str){tok + tok_len, 0};
      return p;
    }
    if (tok[key_len] == '=') {
      *value = (struct ftg_str){tok + key_len + 1, tok_len - key_len - 1};
      return p;
    }
  }
  return NULL;
}

bool ftg_cmdline_get(const char* cmdline, const char* key,
                     struct ftg_str* value) {
  bool found = false;
  for (const char* p = cmdline; (p = ftg_cmdline_next(p, key, value)) != NULL;)
    found = true; /* the last one wins */
  return found;
}

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

size_t ftg_parse_base0(const char* s, size_t len, uint64_t* out) {
  size_t i = 0;
  unsigned base = 10;
  if (len >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
      digit_value(s[2]) < 16) {
    base = 16;
    i = 2;
  } else if (len >= 2 && s[0] == '0' && digit_value(s[1]) < 8) {
    base = 8;
    i = 1;
  }
  size_t first = i;
  uint64_t v = 0;
  for (; i < len; i++) {
    unsigned d = (unsigned)digit_value(s[i]);
    if (d >= base) break;
    if (v > (UINT64_MAX - d) / base) return 0;
    v = v * base + d;
  }
  if (i == first) return 0;
  *out = v;
  return i;
}

bool ftg_parse_u64(struct ftg_str s, uint64_t* out) {
  if (s.len == 0) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < s.len; i++) {
    char c = s.ptr[i];
    if (c < '0' || c > '9') return false;
    uint64_t d = (uint64_t)(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}
