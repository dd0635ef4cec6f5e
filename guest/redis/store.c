/* Hash-table key-value store with incremental rehash, see store.h. */
#include "store.h"

#include <string.h>

#include "rd_alloc.h"

#define INITIAL_BUCKETS 16
/* Buckets moved per operation while growing; empty ones visited are capped
 * at 10x that, as in Redis's dictRehash. */
#define REHASH_STEP 1

struct rd_entry {
  struct rd_entry* next;
  uint64_t hash;
  int64_t expire; /* absolute ms, RD_NO_EXPIRE if none */
  char* val;
  size_t vlen;
  size_t vcap;
  size_t klen;
  char key[];
};

/* FNV-1a with a murmur3 finalizer: cheap for short keys and well mixed in
 * the low bits the bucket mask uses. Unseeded on purpose: the table layout
 * (and so everything the guest does) must be the same on every run. */
static uint64_t hash_key(const void* key, size_t n) {
  const unsigned char* p = key;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

static bool expired(const struct rd_entry* e, int64_t now) {
  return e->expire != RD_NO_EXPIRE && now > e->expire;
}

static void free_entry(struct rd_entry* e) {
  rd_free(e->val);
  rd_free(e);
}

static bool table_alloc(struct rd_table* t, size_t size) {
  struct rd_entry** b = rd_malloc(size * sizeof(*b));
  if (b == NULL) return false;
  memset(b, 0, size * sizeof(*b));
  t->buckets = b;
  t->size = size;
  t->used = 0;
  return true;
}

void rd_store_init(struct rd_store* s) {
  memset(s, 0, sizeof(*s));
  s->rehash = -1;
}

/* Moves up to n non-empty buckets from t[0] to t[1]. */
static void rehash_step(struct rd_store* s, size_t n) {
  size_t empty_visits = n * 10;
  struct rd_table* from = &s->t[0];
  struct rd_table* to = &s->t[1];
  while (n > 0 && from->used > 0) {
    while (from->buckets[s->rehash] == NULL) {
      s->rehash++;
      if (--empty_visits == 0) return;
    }
    struct rd_entry* e = from->buckets[s->rehash];
    while (e != NULL) {
      struct rd_entry* next = e->next;
      size_t i = e->hash & (to->size - 1);
      e->next = to->buckets[i];
      to->buckets[i] = e;
      from->used--;
      to->used++;
      e = next;
    }
    from->buckets[s->rehash++] = NULL;
    n--;
  }
  if (from->used == 0) {
    rd_free(from->buckets);
    *from = *to;
    memset(to, 0, sizeof(*to));
    s->rehash = -1;
  }
}

static struct rd_entry** find(struct rd_store* s, const void* key, size_t klen,
                              uint64_t h) {
  if (s->rehash >= 0) rehash_step(s, REHASH_STEP);
  for (int t = 0; t < 2; t++) {
    struct rd_table* tab = &s->t[t];
    if (tab->size == 0) continue;
    struct rd_entry** link = &tab->buckets[h & (tab->size - 1)];
    for (; *link != NULL; link = &(*link)->next) {
      struct rd_entry* e = *link;
      if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
        return link;
    }
    if (s->rehash < 0) break;
  }
  return NULL;
}

/* Unlinks *link, which lives in table t (whichever: used is per table). */
static void unlink_entry(struct rd_store* s, struct rd_entry** link) {
  struct rd_entry* e = *link;
  *link = e->next;
  /* An entry is in t[1] iff rehashing and its t[0] bucket was moved. */
  int t = 0;
  if (s->rehash >= 0 &&
      (size_t)(e->hash & (s->t[0].size - 1)) < (size_t)s->rehash)
    t = 1;
  s->t[t].used--;
  if (e->expire != RD_NO_EXPIRE) s->expires--;
  free_entry(e);
}

/* The link of a live key; an expired one is deleted on the way. */
static struct rd_entry** find_live(struct rd_store* s, const void* key,
                                   size_t klen, int64_t now) {
  struct rd_entry** link = find(s, key, klen, hash_key(key, klen));
  if (link != NULL && expired(*link, now)) {
    unlink_entry(s, link);
    return NULL;
  }
  return link;
}

static void set_expire(struct rd_store* s, struct rd_entry* e, int64_t when) {
  if (e->expire != RD_NO_EXPIRE) s->expires--;
  e->expire = when;
  if (when != RD_NO_EXPIRE) s->expires++;
}

/* Copies val into e's buffer, reusing it unless it would waste too much. */
static bool store_value(struct rd_entry* e, const void* val, size_t vlen) {
  if (e->val == NULL || e->vcap < vlen || e->vcap / 2 > vlen + 64) {
    char* v = rd_malloc(vlen ? vlen : 1);
    if (v == NULL) return false;
    rd_free(e->val);
    e->val = v;
    e->vcap = vlen ? vlen : 1;
  }
  if (vlen) memcpy(e->val, val, vlen);
  e->vlen = vlen;
  return true;
}

/* Inserts a new key (known to be absent). */
static bool insert(struct rd_store* s, const void* key, size_t klen,
                   const void* val, size_t vlen, int64_t expire) {
  if (s->t[0].size == 0 && !table_alloc(&s->t[0], INITIAL_BUCKETS))
    return false;
  struct rd_entry* e = rd_malloc(sizeof(*e) + klen);
  if (e == NULL) return false;
  memset(e, 0, sizeof(*e));
  if (!store_value(e, val, vlen)) {
    rd_free(e);
    return false;
  }
  /* Grow at load factor 1. Failing to grow only makes chains longer. */
  if (s->rehash < 0 && s->t[0].used >= s->t[0].size &&
      table_alloc(&s->t[1], s->t[0].size * 2))
    s->rehash = 0;
  e->hash = hash_key(key, klen);
  e->klen = klen;
  memcpy(e->key, key, klen);
  e->expire = RD_NO_EXPIRE;
  set_expire(s, e, expire);
  struct rd_table* t = s->rehash >= 0 ? &s->t[1] : &s->t[0];
  size_t i = e->hash & (t->size - 1);
  e->next = t->buckets[i];
  t->buckets[i] = e;
  t->used++;
  return true;
}

void rd_store_flush(struct rd_store* s) {
  for (int t = 0; t < 2; t++) {
    for (size_t i = 0; i < s->t[t].size; i++) {
      struct rd_entry* e = s->t[t].buckets[i];
      while (e != NULL) {
        struct rd_entry* next = e->next;
        free_entry(e);
        e = next;
      }
    }
    rd_free(s->t[t].buckets);
  }
  rd_store_init(s);
}

void rd_store_free(struct rd_store* s) { rd_store_flush(s); }

size_t rd_store_size(struct rd_store* s, int64_t now) {
  if (s->expires > 0) {
    s->cursor = 0;
    rd_store_expire_cycle(s, now, s->t[0].size + s->t[1].size);
  }
  return s->t[0].used + s->t[1].used;
}

size_t rd_store_expires(const struct rd_store* s) { return s->expires; }

bool rd_store_get(struct rd_store* s, const void* key, size_t klen, int64_t now,
                  const char** val, size_t* vlen) {
  struct rd_entry** link = find_live(s, key, klen, now);
  if (link == NULL) return false;
  *val = (*link)->val;
  *vlen = (*link)->vlen;
  return true;
}

bool rd_store_get_expire(struct rd_store* s, const void* key, size_t klen,
                         int64_t now, int64_t* when) {
  struct rd_entry** link = find_live(s, key, klen, now);
  if (link == NULL) return false;
  *when = (*link)->expire;
  return true;
}

bool rd_store_set(struct rd_store* s, const void* key, size_t klen,
                  const void* val, size_t vlen, int64_t expire, bool keep_ttl,
                  int64_t now) {
  struct rd_entry** link = find_live(s, key, klen, now);
  if (link == NULL)
    return insert(s, key, klen, val, vlen, keep_ttl ? RD_NO_EXPIRE : expire);
  if (!store_value(*link, val, vlen)) return false;
  if (!keep_ttl) set_expire(s, *link, expire);
  return true;
}

bool rd_store_replace(struct rd_store* s, const void* key, size_t klen,
                      const void* val, size_t vlen, int64_t now) {
  struct rd_entry** link = find_live(s, key, klen, now);
  return link != NULL && store_value(*link, val, vlen);
}

bool rd_store_append(struct rd_store* s, const void* key, size_t klen,
                     const void* data, size_t n, int64_t now, size_t* newlen) {
  struct rd_entry** link = find_live(s, key, klen, now);
  if (link == NULL) {
    *newlen = n;
    return insert(s, key, klen, data, n, RD_NO_EXPIRE);
  }
  struct rd_entry* e = *link;
  if (e->vcap - e->vlen < n) {
    /* Grow geometrically, as Redis's sds does, so repeated APPENDs to one
     * key cost amortized O(1) copies per byte. */
    size_t cap = e->vlen + n;
    cap = cap < 1024 * 1024 ? cap * 2 : cap + 1024 * 1024;
    char* v = rd_realloc(e->val, cap);
    if (v == NULL) return false;
    e->val = v;
    e->vcap = cap;
  }
  if (n) memcpy(e->val + e->vlen, data, n);
  e->vlen += n;
  *newlen = e->vlen;
  return true;
}

bool rd_store_del(struct rd_store* s, const void* key, size_t klen,
                  int64_t now) {
  struct rd_entry** link = find_live(s, key, klen, now);
  if (link == NULL) return false;
  unlink_entry(s, link);
  return true;
}

size_t rd_store_expire_cycle(struct rd_store* s, int64_t now, size_t buckets) {
  size_t deleted = 0;
  for (; buckets > 0 && s->expires > 0; buckets--) {
    /* The cursor walks t[0] then t[1] as one index space. */
    size_t total = s->t[0].size + s->t[1].size;
    if (total == 0) break;
    if (s->cursor >= total) s->cursor = 0;
    int t = s->cursor < s->t[0].size ? 0 : 1;
    size_t i = t == 0 ? s->cursor : s->cursor - s->t[0].size;
    struct rd_entry** link = &s->t[t].buckets[i];
    while (*link != NULL) {
      if (expired(*link, now)) {
        struct rd_entry* e = *link;
        *link = e->next;
        s->t[t].used--;
        s->expires--;
        free_entry(e);
        deleted++;
      } else {
        link = &(*link)->next;
      }
    }
    s->cursor++;
  }
  return deleted;
}
