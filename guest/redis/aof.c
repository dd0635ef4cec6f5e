/* The append-only log, see aof.h and docs/redis.md (on-disk format). */
#include "aof.h"

#include <string.h>

#include "rd_alloc.h"
#include "resp.h"

#define SECTOR FTG_BLOCKDEV_SECTOR_SIZE

static const char kSuperMagic[8] = {'F', 'T', 'R', 'D', 'A', 'O', 'F', '1'};

/* ---- CRC-32C (Castagnoli), table-driven, table built on first use ---- */

static uint32_t crc_table[256];
static bool crc_ready;

uint32_t rd_crc32c(uint32_t crc, const void* data, size_t n) {
  if (!crc_ready) {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      crc_table[i] = c;
    }
    crc_ready = true;
  }
  const unsigned char* p = data;
  crc = ~crc;
  for (size_t i = 0; i < n; i++)
    crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

/* ---- little-endian fields (the format is fixed whatever the host) ---- */

static void put32(char* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (char)(v >> (8 * i));
}
static void put64(char* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (char)(v >> (8 * i));
}
static uint32_t get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | (unsigned char)p[i];
  return v;
}
static uint64_t get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | (unsigned char)p[i];
  return v;
}

static bool all_zero(const char* p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return false;
  return true;
}

/* The CRC covers everything in the header but the magic and itself. */
static uint32_t record_crc(const char* rec, size_t payload_len) {
  uint32_t c = rd_crc32c(0, rec + 4, 4);
  c = rd_crc32c(c, rec + 12, RD_AOF_HEADER_SIZE - 12);
  return rd_crc32c(c, rec + RD_AOF_HEADER_SIZE, payload_len);
}

/* ---- open: superblock, replay, tail preparation ---- */

static void make_superblock(char* sb, uint32_t max_commit) {
  memset(sb, 0, SECTOR);
  memcpy(sb, kSuperMagic, 8);
  put32(sb + 8, RD_AOF_VERSION);
  put32(sb + 12, SECTOR);
  put64(sb + 16, RD_AOF_LOG_START);
  put32(sb + 24, max_commit);
  put32(sb + SECTOR - 4, rd_crc32c(0, sb, SECTOR - 4));
}

/* Reads sector 0: the log's geometry, or a blank device. */
static enum rd_aof_status read_superblock(struct rd_aof* aof, bool* blank) {
  char sb[SECTOR];
  if (aof->dev->read(aof->dev, 0, 1, sb) != 0) return RD_AOF_EIO;
  *blank = false;
  if (memcmp(sb, kSuperMagic, 8) != 0) {
    if (!all_zero(sb, SECTOR)) return RD_AOF_EFOREIGN;
    *blank = true;
    return RD_AOF_OK;
  }
  uint32_t max_commit = get32(sb + 24);
  if (get32(sb + SECTOR - 4) != rd_crc32c(0, sb, SECTOR - 4) ||
      get32(sb + 8) != RD_AOF_VERSION || get32(sb + 12) != SECTOR ||
      get64(sb + 16) != RD_AOF_LOG_START || max_commit == 0 ||
      max_commit > (1u << 20))
    return RD_AOF_ECORRUPT;
  aof->max_commit_sectors = max_commit;
  return RD_AOF_OK;
}

/* The replay's view of the device: a window of sectors in aof->buf. */
struct reader {
  struct rd_aof* aof;
  uint64_t win_start; /* byte offset, sector aligned */
  uint64_t win_len;
  int io_error;
};

/* Pointer to bytes [pos, pos+n) of the device, or NULL if they lie beyond
 * its end (or an I/O error happened: r->io_error). */
static const char* load(struct reader* r, uint64_t pos, size_t n) {
  if (pos >= r->win_start && pos + n <= r->win_start + r->win_len)
    return r->aof->buf + (pos - r->win_start);
  uint64_t first = pos / SECTOR;
  uint64_t count = r->aof->cap / SECTOR + 1; /* buffer holds cap + 1 sector */
  if (count > r->aof->dev->sectors - first)
    count = r->aof->dev->sectors - first;
  r->win_start = first * SECTOR;
  r->win_len = 0;
  if (r->aof->dev->read(r->aof->dev, first, (uint32_t)count, r->aof->buf)) {
    r->io_error = 1;
    return NULL;
  }
  r->win_len = count * SECTOR;
  if (pos + n > r->win_start + r->win_len) return NULL;
  return r->aof->buf + (pos - r->win_start);
}

static enum rd_aof_status replay(struct rd_aof* aof, rd_aof_apply_fn apply,
                                 void* ctx, struct rd_aof_report* rep) {
  struct reader r = {aof, 0, 0, 0};
  uint64_t end = aof->dev->sectors * SECTOR;
  uint64_t pos = (uint64_t)RD_AOF_LOG_START * SECTOR;
  for (;;) {
    rep->tail = pos;
    if (pos >= end) {
      rep->end = RD_AOF_END_CAPACITY;
      return RD_AOF_OK;
    }
    size_t off = (size_t)(pos % SECTOR);
    if (off != 0) {
      /* Each commit ends with zeros up to a sector boundary. */
      const char* rest = load(&r, pos, SECTOR - off);
      if (rest == NULL) return RD_AOF_EIO;
      if (all_zero(rest, SECTOR - off)) {
        pos += SECTOR - off;
        continue;
      }
    }
    const char* h = load(&r, pos, RD_AOF_HEADER_SIZE);
    if (h == NULL) {
      if (r.io_error) return RD_AOF_EIO;
      rep->end = RD_AOF_END_BAD_LENGTH; /* a header cut by the device end */
      return RD_AOF_OK;
    }
    uint32_t magic = get32(h);
    if (magic != RD_AOF_RECORD_MAGIC) {
      rep->end =
          magic == 0 && off == 0 ? RD_AOF_END_CLEAN : RD_AOF_END_BAD_MAGIC;
      return RD_AOF_OK;
    }
    uint32_t len = get32(h + 4);
    if (len > aof->cap - RD_AOF_HEADER_SIZE ||
        pos + RD_AOF_HEADER_SIZE + len > end) {
      rep->end = RD_AOF_END_BAD_LENGTH;
      return RD_AOF_OK;
    }
    const char* rec = load(&r, pos, RD_AOF_HEADER_SIZE + len);
    if (rec == NULL) return RD_AOF_EIO;
    if (record_crc(rec, len) != get32(rec + 8)) {
      rep->end = RD_AOF_END_BAD_CRC;
      return RD_AOF_OK;
    }
    if (apply(ctx, (int64_t)get64(rec + 16), rec + RD_AOF_HEADER_SIZE, len))
      return RD_AOF_EREPLAY;
    rep->records++;
    rep->bytes += RD_AOF_HEADER_SIZE + len;
    pos += RD_AOF_HEADER_SIZE + len;
  }
}

/* Makes the log continue at byte `tail`: the sector holding it keeps its
 * bytes before `tail` and is zeroed after; then the next max_commit sectors
 * (everything a torn commit that started at or before `tail` can have
 * written) are zeroed; then a flush. */
static enum rd_aof_status prepare_tail(struct rd_aof* aof, uint64_t tail) {
  struct ftg_blockdev* dev = aof->dev;
  uint64_t sector = tail / SECTOR;
  size_t off = (size_t)(tail % SECTOR);
  if (off != 0) {
    if (dev->read(dev, sector, 1, aof->buf)) return RD_AOF_EIO;
    memset(aof->buf + off, 0, SECTOR - off);
    if (dev->write(dev, sector, 1, aof->buf)) return RD_AOF_EIO;
    sector++;
  }
  uint64_t n = aof->max_commit_sectors;
  if (sector > dev->sectors) sector = dev->sectors;
  if (n > dev->sectors - sector) n = dev->sectors - sector;
  memset(aof->buf, 0, aof->cap);
  if (n > 0 && dev->write(dev, sector, (uint32_t)n, aof->buf))
    return RD_AOF_EIO;
  if (dev->flush(dev)) return RD_AOF_EIO;
  aof->tail_sector = sector;
  return RD_AOF_OK;
}

enum rd_aof_status rd_aof_open(struct rd_aof* aof, struct ftg_blockdev* dev,
                               uint32_t max_commit_sectors,
                               rd_aof_apply_fn apply, void* ctx,
                               struct rd_aof_report* report) {
  memset(aof, 0, sizeof(*aof));
  memset(report, 0, sizeof(*report));
  aof->dev = dev;
  if (dev->sectors < RD_AOF_LOG_START + 2) return RD_AOF_ESMALL;
  bool blank;
  enum rd_aof_status st = read_superblock(aof, &blank);
  if (st != RD_AOF_OK) return st;
  if (blank) {
    uint64_t room = dev->sectors - RD_AOF_LOG_START;
    uint32_t mc = max_commit_sectors ? max_commit_sectors
                                     : RD_AOF_DEFAULT_MAX_COMMIT_SECTORS;
    aof->max_commit_sectors = room < mc ? (uint32_t)room : mc;
  }
  aof->cap = (size_t)aof->max_commit_sectors * SECTOR;
  aof->buf = rd_malloc(aof->cap + SECTOR);
  if (aof->buf == NULL) return RD_AOF_ENOMEM;
  uint64_t tail = (uint64_t)RD_AOF_LOG_START * SECTOR;
  if (!blank) {
    st = replay(aof, apply, ctx, report);
    if (st != RD_AOF_OK) return st;
    tail = report->tail;
  }
  st = prepare_tail(aof, tail);
  if (st != RD_AOF_OK) return st;
  if (blank) {
    /* The superblock goes last: a crash while formatting leaves a blank
     * device, which is formatted again. */
    make_superblock(aof->buf, aof->max_commit_sectors);
    if (dev->write(dev, 0, 1, aof->buf) || dev->flush(dev)) return RD_AOF_EIO;
    report->formatted = true;
    memset(aof->buf, 0, SECTOR);
  }
  return RD_AOF_OK;
}

void rd_aof_close(struct rd_aof* aof) {
  rd_free(aof->buf);
  aof->buf = NULL;
  aof->len = aof->cap = 0;
}

/* ---- appending ---- */

static size_t num_len(uint64_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

size_t rd_aof_command_size(size_t argc, const size_t* argl) {
  size_t n = 1 + num_len(argc) + 2;
  for (size_t i = 0; i < argc; i++) n += 1 + num_len(argl[i]) + 2 + argl[i] + 2;
  return n;
}

static size_t align_up(size_t n) { return (n + SECTOR - 1) / SECTOR * SECTOR; }

const char* rd_aof_reserve(struct rd_aof* aof, size_t payload_len) {
  static const char kIoError[] =
      "MISCONF Errors writing to the AOF file: Input/output error";
  if (aof->error) return kIoError;
  /* Only possible if a handler run during the disk wait entered the server
   * (the NIC contract in netif_glue.h forbids it): refuse, do not corrupt
   * the buffer being written. */
  if (aof->busy) return "ERR internal error: the log was re-entered";
  if (payload_len > aof->cap - RD_AOF_HEADER_SIZE)
    return "ERR command too large for the append-only log";
  size_t need = RD_AOF_HEADER_SIZE + payload_len;
  if (aof->len + need > aof->cap && rd_aof_commit(aof) != RD_AOF_OK)
    return kIoError;
  uint64_t room = (aof->dev->sectors - aof->tail_sector) * SECTOR;
  if (align_up(aof->len + need) > room)
    return "MISCONF Errors writing to the AOF file: No space left on device";
  return NULL;
}

static char* put_count(char* p, char type, uint64_t v) {
  *p++ = type;
  p += rd_ull2str(p, v);
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

void rd_aof_append(struct rd_aof* aof, int64_t time, size_t argc,
                   const char* const* argv, const size_t* argl) {
  size_t payload = rd_aof_command_size(argc, argl);
  char* rec = aof->buf + aof->len;
  char* p = put_count(rec + RD_AOF_HEADER_SIZE, '*', argc);
  for (size_t i = 0; i < argc; i++) {
    p = put_count(p, '$', argl[i]);
    memcpy(p, argv[i], argl[i]);
    p += argl[i];
    *p++ = '\r';
    *p++ = '\n';
  }
  put32(rec, RD_AOF_RECORD_MAGIC);
  put32(rec + 4, (uint32_t)payload);
  put32(rec + 12, 0); /* flags: none defined yet */
  put64(rec + 16, (uint64_t)time);
  put32(rec + 8, record_crc(rec, payload));
  aof->len += RD_AOF_HEADER_SIZE + payload;
  aof->stats.records++;
}

bool rd_aof_pending(const struct rd_aof* aof) { return aof->len > 0; }

enum rd_aof_status rd_aof_commit(struct rd_aof* aof) {
  if (aof->error || aof->busy) return RD_AOF_EIO;
  if (aof->len == 0) return RD_AOF_OK;
  size_t padded = align_up(aof->len);
  memset(aof->buf + aof->len, 0, padded - aof->len);
  uint32_t n = (uint32_t)(padded / SECTOR);
  struct ftg_blockdev* dev = aof->dev;
  aof->busy = true;
  bool failed =
      dev->write(dev, aof->tail_sector, n, aof->buf) || dev->flush(dev);
  aof->busy = false;
  if (failed) {
    /* What reached the disk is unknown now: stop logging for good (the
     * server fails-stop, the next boot's replay sorts it out). */
    aof->error = RD_AOF_EIO;
    return RD_AOF_EIO;
  }
  aof->tail_sector += n;
  aof->len = 0;
  aof->stats.commits++;
  aof->stats.sectors_written += n;
  return RD_AOF_OK;
}

const char* rd_aof_status_name(enum rd_aof_status s) {
  switch (s) {
    case RD_AOF_OK:
      return "ok";
    case RD_AOF_EIO:
      return "io-error";
    case RD_AOF_ENOMEM:
      return "no-memory";
    case RD_AOF_EFOREIGN:
      return "foreign-disk";
    case RD_AOF_ECORRUPT:
      return "bad-superblock";
    case RD_AOF_ESMALL:
      return "disk-too-small";
    case RD_AOF_EREPLAY:
      return "replay-failed";
  }
  return "?";
}

const char* rd_aof_end_name(enum rd_aof_end e) {
  switch (e) {
    case RD_AOF_END_CLEAN:
      return "clean";
    case RD_AOF_END_CAPACITY:
      return "device-end";
    case RD_AOF_END_BAD_MAGIC:
      return "bad-magic";
    case RD_AOF_END_BAD_LENGTH:
      return "bad-length";
    case RD_AOF_END_BAD_CRC:
      return "bad-crc";
  }
  return "?";
}
