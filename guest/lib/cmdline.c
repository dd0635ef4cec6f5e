/* Command-line tokenizing, see cmdline.h. */
#include "lib/cmdline.h"

#include "lib/string.h"

static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool ftg_cmdline_get(const char* cmdline, const char* key,
                     struct ftg_str* value) {
  size_t key_len = strlen(key);
  bool found = false;
  const char* p = cmdline;
  while (*p) {
    while (is_space(*p)) p++;
    const char* tok = p;
    while (*p && !is_space(*p)) p++;
    size_t tok_len = (size_t)(p - tok);
    if (tok_len < key_len || memcmp(tok, key, key_len) != 0) continue;
    if (tok_len == key_len) {
      *value = (struct ftg_str){tok + tok_len, 0};
      found = true;
    } else if (tok[key_len] == '=') {
      *value = (struct ftg_str){tok + key_len + 1, tok_len - key_len - 1};
      found = true;
    }
  }
  return found;
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
