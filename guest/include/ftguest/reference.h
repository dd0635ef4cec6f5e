/*
 * ftguest reference: everything the host needs to know to check a guest run.
 *
 * The guest and the host tests both include this header, so the result a
 * workload prints and the result a test expects come from the same code.
 * It is plain C99 that also compiles as C++ (no guest dependencies, no libc
 * except in the __STDC_HOSTED__ convenience wrappers at the end).
 */
#ifndef FTGUEST_REFERENCE_H_
#define FTGUEST_REFERENCE_H_

#include <stddef.h>
#include <stdint.h>

/* ---- Exit codes (the value written to FTG_PORT_DEBUG_EXIT) ------------- */
/* QEMU's isa-debug-exit turns code c into process status (c << 1) | 1;
 * ftvm reports c itself. */
#define FTG_EXIT_OK 0          /* status=ok */
#define FTG_EXIT_FAIL 1        /* the workload failed (or bad boot info) */
#define FTG_EXIT_BAD_CMDLINE 2 /* unknown workload or bad parameter */
#define FTG_EXIT_EXCEPTION 3   /* a CPU exception reached the guest's IDT */

/* ---- I/O ports the guest uses ------------------------------------------ */
#define FTG_PORT_COM1 0x3f8u         /* 16550 UART base (THR/RBR at +0) */
#define FTG_PORT_COM1_LSR 0x3fdu     /* line status: bit 5 = THR empty */
#define FTG_PORT_COM1_SCRATCH 0x3ffu /* scratch register: the pio workload */
#define FTG_PORT_PIT_CH0 0x40u       /* 8254 channel 0: one-shot timer */
#define FTG_PORT_PIT_CH1 0x41u       /* 8254 channel 1: the clock */
#define FTG_PORT_PIT_CMD 0x43u       /* 8254 mode/command */
#define FTG_PORT_DEBUG_EXIT 0xf4u    /* 32-bit write of the exit code */
#define FTG_PORT_PIC1_CMD 0x20u      /* 8259 master */
#define FTG_PORT_PIC1_DATA 0x21u
#define FTG_PORT_PIC2_CMD 0xa0u /* 8259 slave (on master line 2) */
#define FTG_PORT_PIC2_DATA 0xa1u
#define FTG_PORT_CMOS_INDEX 0x70u /* MC146818 RTC register select */
#define FTG_PORT_CMOS_DATA 0x71u

/* Interrupt lines (8259, vector = 0x20 + line). virtio-mmio devices use the
 * line their virtio_mmio.device= token names (QEMU microvm: 5 + transport,
 * the first device on transport 7, line 12). */
#define FTG_IRQ_PIT 0u

#define FTG_PIT_HZ 1193182u /* 8254 input clock */

/* ---- Hash primitives ---------------------------------------------------- */
#define FTG_FNV_OFFSET 0xcbf29ce484222325ULL
#define FTG_FNV_PRIME 0x100000001b3ULL
#define FTG_GOLDEN 0x9e3779b97f4a7c15ULL

/* splitmix64's finalizer: a bijective 64-bit mixer. */
static inline uint64_t ftg_mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

static inline uint64_t ftg_fnv1a64_update(uint64_t h, const void* data,
                                          size_t n) {
  const unsigned char* p = (const unsigned char*)data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= FTG_FNV_PRIME;
  }
  return h;
}

static inline uint64_t ftg_fnv1a64(const void* data, size_t n) {
  return ftg_fnv1a64_update(FTG_FNV_OFFSET, data, n);
}

/* Word hash used over memory images: each step is a bijection of h for a
 * fixed word and of the word for a fixed h, so any single changed word
 * changes the result. */
static inline uint64_t ftg_hash_word(uint64_t h, uint64_t w) {
  return ftg_mix64(h ^ w) + FTG_GOLDEN;
}

/* ---- Workload parameters: defaults and inclusive bounds ----------------- */
#define FTG_COMPUTE_MIB_DEFAULT 16
#define FTG_COMPUTE_MIB_MIN 1
#define FTG_COMPUTE_MIB_MAX 3072
#define FTG_COMPUTE_ROUNDS_DEFAULT 8
#define FTG_COMPUTE_ROUNDS_MIN 1
#define FTG_COMPUTE_ROUNDS_MAX 100000

#define FTG_MEMDIRTY_MIB_DEFAULT 64
#define FTG_MEMDIRTY_MIB_MIN 1
#define FTG_MEMDIRTY_MIB_MAX 3072
#define FTG_MEMDIRTY_RATE_DEFAULT 2000
#define FTG_MEMDIRTY_RATE_MIN 1
#define FTG_MEMDIRTY_RATE_MAX 10000000
#define FTG_MEMDIRTY_SECONDS_DEFAULT 2
#define FTG_MEMDIRTY_SECONDS_MIN 1
#define FTG_MEMDIRTY_SECONDS_MAX 86400

#define FTG_PIO_COUNT_DEFAULT 10000
#define FTG_PIO_COUNT_MIN 1
#define FTG_PIO_COUNT_MAX 100000000

#define FTG_TIMER_COUNT_DEFAULT 20
#define FTG_TIMER_COUNT_MIN 1
#define FTG_TIMER_COUNT_MAX 1000000
#define FTG_TIMER_MS_DEFAULT 10
#define FTG_TIMER_MS_MIN 1
#define FTG_TIMER_MS_MAX 60000

#define FTG_DISK_MIB_DEFAULT 4
#define FTG_DISK_MIB_MIN 1
#define FTG_DISK_MIB_MAX 1048576  /* 1 TiB */
#define FTG_DISK_RATE_DEFAULT 200 /* block writes per second */
#define FTG_DISK_RATE_MIN 1
#define FTG_DISK_RATE_MAX 1000000
#define FTG_DISK_SECONDS_DEFAULT 2
#define FTG_DISK_SECONDS_MIN 1
#define FTG_DISK_SECONDS_MAX 86400
#define FTG_DISK_FLUSH_DEFAULT 16 /* flush after every N writes; 0: never */
#define FTG_DISK_FLUSH_MIN 0
#define FTG_DISK_FLUSH_MAX 1000000000

/* fault: the vector to raise on purpose (tests the exception path). */
#define FTG_FAULT_VEC_DEFAULT 6

#define FTG_MIB ((uint64_t)1048576)
#define FTG_PAGE_SIZE ((uint64_t)4096)
#define FTG_WORDS_PER_MIB (FTG_MIB / 8)
#define FTG_WORDS_PER_PAGE (FTG_PAGE_SIZE / 8)

/* ---- hello --------------------------------------------------------------- */
#define FTG_HELLO_GREETING "Hello from ftguest, a library OS running at CPL3!"

static inline uint64_t ftg_ref_hello(void) {
  return ftg_fnv1a64(FTG_HELLO_GREETING, sizeof(FTG_HELLO_GREETING) - 1);
}

/* ---- compute ------------------------------------------------------------ */
/* Mixer rounds per word: sized so the defaults (16 MiB x 8 rounds) take
 * roughly half a second natively. Changing it changes every result. */
#define FTG_COMPUTE_MIX_STEPS 6
#define FTG_COMPUTE_SEED 0x66746775657374ULL /* "ftguest" */

/* Counter-based fill (splitmix64 at position j) so the guest can fill in
 * chunks between PIT polls. */
static inline void ftg_compute_fill(uint64_t* buf, uint64_t begin,
                                    uint64_t end) {
  for (uint64_t j = begin; j < end; j++)
    buf[j] = ftg_mix64(FTG_COMPUTE_SEED + (j + 1) * FTG_GOLDEN);
}

/* One pass over buf[begin, end): a serial hash chain (cannot be
 * parallelised or skipped) that also rewrites every word it reads, so the
 * next pass sees different data. Returns the running hash. */
static inline uint64_t ftg_compute_pass(uint64_t* buf, uint64_t begin,
                                        uint64_t end, uint64_t h) {
  for (uint64_t j = begin; j < end; j++) {
    uint64_t w = buf[j];
    uint64_t x = h ^ w;
    for (int k = 0; k < FTG_COMPUTE_MIX_STEPS; k++)
      x = ftg_mix64(x) + (uint64_t)k;
    h = x;
    buf[j] = w + (x >> 7);
  }
  return h;
}

/* Expected result of compute(mib, rounds); scratch holds mib MiB. */
static inline uint64_t ftg_ref_compute_scratch(uint64_t mib, uint64_t rounds,
                                               uint64_t* scratch) {
  uint64_t words = mib * FTG_WORDS_PER_MIB;
  uint64_t h = FTG_FNV_OFFSET;
  ftg_compute_fill(scratch, 0, words);
  for (uint64_t r = 0; r < rounds; r++)
    h = ftg_compute_pass(scratch, 0, words, h);
  return h;
}

/* ---- memdirty ----------------------------------------------------------- */
/* The working set is mib MiB of 8-byte words, initially init_word(j). Write
 * k (0 <= k < rate*seconds) stores value(i, p) into word 0 of page
 * i = k % pages, pass p = k / pages. Result: ftg_hash_word over all words in
 * order, starting from FTG_FNV_OFFSET. Timing never changes the result. */
#define FTG_MEMDIRTY_SEED 0x6d656d6469727479ULL /* "memdirty" */

static inline uint64_t ftg_memdirty_init_word(uint64_t j) {
  return ftg_mix64(FTG_MEMDIRTY_SEED + (j + 1) * FTG_GOLDEN);
}

static inline uint64_t ftg_memdirty_value(uint64_t page, uint64_t pass) {
  return ftg_mix64(((pass << 32) | page) ^ ~FTG_MEMDIRTY_SEED);
}

static inline uint64_t ftg_ref_memdirty(uint64_t mib, uint64_t rate,
                                        uint64_t seconds) {
  uint64_t pages = mib * (FTG_MIB / FTG_PAGE_SIZE);
  uint64_t writes = rate * seconds;
  uint64_t h = FTG_FNV_OFFSET;
  for (uint64_t i = 0; i < pages; i++) {
    uint64_t base = i * FTG_WORDS_PER_PAGE;
    uint64_t w0 = i < writes ? ftg_memdirty_value(i, (writes - 1 - i) / pages)
                             : ftg_memdirty_init_word(base);
    h = ftg_hash_word(h, w0);
    for (uint64_t j = 1; j < FTG_WORDS_PER_PAGE; j++)
      h = ftg_hash_word(h, ftg_memdirty_init_word(base + j));
  }
  return h;
}

/* ---- pio ---------------------------------------------------------------- */
/* Round trip k writes pio_value(k) to the UART scratch register and reads it
 * back; the result is FNV-1a-64 over the bytes read. */
#define FTG_PIO_SEED 0x70696f70696f70ULL

static inline uint8_t ftg_pio_value(uint64_t k) {
  return (uint8_t)ftg_mix64(FTG_PIO_SEED + k);
}

static inline uint64_t ftg_ref_pio(uint64_t count) {
  uint64_t h = FTG_FNV_OFFSET;
  for (uint64_t k = 0; k < count; k++) {
    h ^= ftg_pio_value(k);
    h *= FTG_FNV_PRIME;
  }
  return h;
}

/* ---- timer -------------------------------------------------------------- */
/* count one-shot expiries, expiry k (1-based) due k*ms ms after the start.
 * The result hashes the sequence numbers in the order the timers fired
 * (with ms), so it proves each fired once and in order, never when. */
static inline uint64_t ftg_timer_seq_word(uint64_t ms, uint64_t k) {
  return (ms << 32) ^ k;
}

static inline uint64_t ftg_ref_timer(uint64_t count, uint64_t ms) {
  uint64_t h = FTG_FNV_OFFSET;
  for (uint64_t k = 1; k <= count; k++)
    h = ftg_hash_word(h, ftg_timer_seq_word(ms, k));
  return h;
}

/* ---- disk --------------------------------------------------------------- */
/* The disk's first mib MiB are blocks of 4 KiB. Write k (0 <= k <
 * rate*seconds) writes block i = k % blocks with the pattern of pass
 * p = k / blocks; before it, if p > 0, the block is read and must hold pass
 * p-1. At the end every written block is read back and checked, and the
 * result is ftg_hash_word over those blocks' words in block order: it
 * depends on (mib, rate*seconds) only. Blocks beyond the written ones are
 * never read (their content is whatever the image held). */
#define FTG_DISK_BLOCK_SIZE 4096u
#define FTG_DISK_SECTORS_PER_BLOCK 8u
#define FTG_DISK_WORDS_PER_BLOCK 512u
#define FTG_DISK_SEED 0x6b73696467746675ULL /* "uftgdisk" */

/* Word j of block i in pass p. */
static inline uint64_t ftg_disk_pass_key(uint64_t pass) {
  return ftg_mix64(FTG_DISK_SEED + pass * FTG_GOLDEN);
}
static inline uint64_t ftg_disk_word(uint64_t key, uint64_t block, uint64_t j) {
  return ftg_mix64(key ^ (block * FTG_DISK_WORDS_PER_BLOCK + j));
}
static inline void ftg_disk_fill_block(uint64_t* words, uint64_t block,
                                       uint64_t pass) {
  uint64_t key = ftg_disk_pass_key(pass);
  for (uint64_t j = 0; j < FTG_DISK_WORDS_PER_BLOCK; j++)
    words[j] = ftg_disk_word(key, block, j);
}

/* The pass whose pattern block i holds at the end, or -1 if never written. */
static inline int64_t ftg_disk_final_pass(uint64_t block, uint64_t blocks,
                                          uint64_t writes) {
  if (block >= blocks || block >= writes) return -1;
  return (int64_t)((writes - 1 - block) / blocks);
}

static inline uint64_t ftg_ref_disk(uint64_t mib, uint64_t rate,
                                    uint64_t seconds) {
  uint64_t blocks = mib * (FTG_MIB / FTG_DISK_BLOCK_SIZE);
  uint64_t writes = rate * seconds;
  uint64_t h = FTG_FNV_OFFSET;
  for (uint64_t i = 0; i < blocks && i < writes; i++) {
    uint64_t key =
        ftg_disk_pass_key((uint64_t)ftg_disk_final_pass(i, blocks, writes));
    for (uint64_t j = 0; j < FTG_DISK_WORDS_PER_BLOCK; j++)
      h = ftg_hash_word(h, ftg_disk_word(key, i, j));
  }
  return h;
}

/* ---- Host conveniences -------------------------------------------------- */
#if defined(__STDC_HOSTED__) && __STDC_HOSTED__
#include <stdlib.h>
/* compute(mib, rounds) with its own scratch buffer; 0 if out of memory. */
static inline uint64_t ftg_ref_compute(uint64_t mib, uint64_t rounds) {
  uint64_t* scratch = (uint64_t*)malloc((size_t)(mib * FTG_MIB));
  if (scratch == NULL) return 0;
  uint64_t h = ftg_ref_compute_scratch(mib, rounds, scratch);
  free(scratch);
  return h;
}
#endif

#endif /* FTGUEST_REFERENCE_H_ */
