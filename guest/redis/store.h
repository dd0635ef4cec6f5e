/*
 * The key-value store: binary-safe string keys and values with optional
 * expiry, in a chained hash table that grows by incremental rehashing (as
 * Redis's dict does: two tables while growing, a bounded number of buckets
 * moved per operation, so no single request pays for rehashing everything).
 *
 * There is no clock in here: every call that can observe expiry takes `now`
 * (milliseconds on the caller's time line). That keeps the store
 * deterministic, which record/replay and the AOF replay both rely on.
 * A key with expiry `when` is gone once now > when (Redis's rule).
 *
 * Writes are atomic with respect to running out of memory: everything a
 * write needs is allocated before the table is touched, so a failed write
 * leaves the store exactly as it was (the AOF record can then be dropped).
 */
#ifndef FTGUEST_REDIS_STORE_H_
#define FTGUEST_REDIS_STORE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RD_NO_EXPIRE (-1)

struct rd_entry;

struct rd_table {
  struct rd_entry** buckets;
  size_t size; /* 0 or a power of two */
  size_t used;
};

struct rd_store {
  struct rd_table t[2]; /* t[1] only while rehashing into it */
  long rehash;          /* next bucket of t[0] to move, -1 if not rehashing */
  size_t expires;       /* keys with an expiry */
  size_t cursor;        /* where the active expiry sweep resumes */
};

void rd_store_init(struct rd_store* s);
void rd_store_free(struct rd_store* s); /* frees every entry */

/* Live keys (expired ones are purged first: O(n) when keys expire). */
size_t rd_store_size(struct rd_store* s, int64_t now);
size_t rd_store_expires(const struct rd_store* s);

/* Looks key up; expired keys are deleted and reported missing. *val stays
 * valid until the next write to the store. */
bool rd_store_get(struct rd_store* s, const void* key, size_t klen, int64_t now,
                  const char** val, size_t* vlen);
/* Expiry of a live key (RD_NO_EXPIRE if none); false if missing. */
bool rd_store_get_expire(struct rd_store* s, const void* key, size_t klen,
                         int64_t now, int64_t* when);

/* Sets key to val. expire: absolute ms or RD_NO_EXPIRE; keep_ttl keeps the
 * old expiry of an existing key instead. False on out of memory (nothing
 * changed). */
bool rd_store_set(struct rd_store* s, const void* key, size_t klen,
                  const void* val, size_t vlen, int64_t expire, bool keep_ttl,
                  int64_t now);

/* Appends to the value (creating the key); *newlen gets the new length.
 * False on out of memory (nothing changed). */
bool rd_store_append(struct rd_store* s, const void* key, size_t klen,
                     const void* data, size_t n, int64_t now, size_t* newlen);

/* Replaces the value of a live key keeping its expiry (INCR). False on out of
 * memory or if the key is missing. */
bool rd_store_replace(struct rd_store* s, const void* key, size_t klen,
                      const void* val, size_t vlen, int64_t now);

/* True if a live key was deleted. */
bool rd_store_del(struct rd_store* s, const void* key, size_t klen,
                  int64_t now);

void rd_store_flush(struct rd_store* s);

/* Active expiry: visits up to `buckets` buckets from where the last call
 * stopped and deletes expired keys there. Returns keys deleted. */
size_t rd_store_expire_cycle(struct rd_store* s, int64_t now, size_t buckets);

#ifdef __cplusplus
}
#endif

#endif /* FTGUEST_REDIS_STORE_H_ */
