/*
 * The append-only durability log on a block device (format: docs/redis.md).
 *
 * Every change is a record: a 24-byte header (magic, payload length,
 * CRC-32C, flags, the command's time in ms) and the command as RESP.
 * Records accumulate in memory and are written with group commit: one write
 * and one flush per batch, and nothing of the batch is acknowledged before
 * that flush returned. Each commit starts on a fresh sector and never
 * rewrites a sector holding an acknowledged record.
 *
 * At boot, records are replayed in order until the first one that is not
 * intact (bad magic, impossible length, wrong CRC): that is where a crash
 * tore the last commit. The log continues from there, after zeroing the
 * sectors a torn commit could have reached, so stale pieces of it can never
 * be read as records later.
 */
#ifndef FTGUEST_REDIS_AOF_H_
#define FTGUEST_REDIS_AOF_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blockdev.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RD_AOF_RECORD_MAGIC 0x314c4452u /* "RDL1" little-endian */
#define RD_AOF_HEADER_SIZE 24u
#define RD_AOF_VERSION 1u
#define RD_AOF_LOG_START 8u /* first log sector: 4 KiB aligned */
/* Largest commit write (and so largest record, header included): 4 MiB. */
#define RD_AOF_DEFAULT_MAX_COMMIT_SECTORS 8192u

enum rd_aof_status {
  RD_AOF_OK = 0,
  RD_AOF_EIO,      /* the device reported an error */
  RD_AOF_ENOMEM,   /* no memory for the commit buffer */
  RD_AOF_EFOREIGN, /* sector 0 holds something else: refusing to format */
  RD_AOF_ECORRUPT, /* our superblock, but damaged or of another version */
  RD_AOF_ESMALL,   /* the device cannot hold a log */
  RD_AOF_EREPLAY,  /* an intact record could not be applied */
};

/* Why replay stopped. */
enum rd_aof_end {
  RD_AOF_END_CLEAN,      /* zeros where the next record would start */
  RD_AOF_END_CAPACITY,   /* the log reaches the end of the device */
  RD_AOF_END_BAD_MAGIC,  /* a torn or foreign header */
  RD_AOF_END_BAD_LENGTH, /* length beyond the limit or the device */
  RD_AOF_END_BAD_CRC,    /* a torn record */
};

struct rd_aof_report {
  bool formatted;   /* the device was blank and is now formatted */
  uint64_t records; /* records replayed */
  uint64_t bytes;   /* bytes of intact records (headers included) */
  uint64_t tail;    /* byte offset where replay stopped */
  enum rd_aof_end end;
};

struct rd_aof_stats {
  uint64_t records;
  uint64_t commits; /* write+flush pairs */
  uint64_t sectors_written;
};

/* Applies one intact record; nonzero stops the replay (RD_AOF_EREPLAY). */
typedef int (*rd_aof_apply_fn)(void* ctx, int64_t time, const char* payload,
                               size_t len);

struct rd_aof {
  struct ftg_blockdev* dev;
  uint64_t tail_sector; /* where the next commit is written */
  uint32_t max_commit_sectors;
  char* buf; /* pending records; at boot, the replay read window */
  size_t len;
  size_t cap;
  int error; /* sticky: after an I/O error nothing is logged any more */
  bool busy; /* a commit's I/O is in flight (re-entry is refused) */
  struct rd_aof_stats stats;
};

/* Opens the log on dev: formats a blank device (max_commit_sectors from the
 * argument, 0 for the default), or replays an existing log through apply.
 * On success the log is ready for appends at the replay's stopping point. */
enum rd_aof_status rd_aof_open(struct rd_aof* aof, struct ftg_blockdev* dev,
                               uint32_t max_commit_sectors,
                               rd_aof_apply_fn apply, void* ctx,
                               struct rd_aof_report* report);
void rd_aof_close(struct rd_aof* aof); /* frees memory; does not commit */

/* Makes sure a record with this payload can be appended: commits what is
 * pending if the buffer would overflow. NULL if it can; else the error
 * text to reply with (log full, record too large, earlier I/O error). */
const char* rd_aof_reserve(struct rd_aof* aof, size_t payload_len);
/* Appends a record for the command; must follow a successful reserve of
 * the same size (rd_aof_command_size). */
void rd_aof_append(struct rd_aof* aof, int64_t time, size_t argc,
                   const char* const* argv, const size_t* argl);
size_t rd_aof_command_size(size_t argc, const size_t* argl);

bool rd_aof_pending(const struct rd_aof* aof);
/* Writes and flushes the pending records (nothing if none). */
enum rd_aof_status rd_aof_commit(struct rd_aof* aof);

uint32_t rd_crc32c(uint32_t crc, const void* data, size_t n);
const char* rd_aof_status_name(enum rd_aof_status s);
const char* rd_aof_end_name(enum rd_aof_end e);

#ifdef __cplusplus
}
#endif

#endif /* FTGUEST_REDIS_AOF_H_ */
