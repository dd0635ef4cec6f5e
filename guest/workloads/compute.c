/*
 * compute: CPU- and memory-bound work with no exits except PIT polls.
 * Exercises a guest that never exits on its own (the VMM must force exits /
 * micro-checkpoints) and gives a native-speed baseline.
 */
#include "ftguest/reference.h"
#include "lib/fmt.h"
#include "lib/pit.h"
#include "workloads/workload.h"

/* Poll the PIT after each chunk. 1 MiB of hashing is a few ms natively,
 * far below the PIT's ~55 ms wrap, and only 3 exits per MiB. */
#define CHUNK_WORDS FTG_WORDS_PER_MIB

enum { P_MIB, P_ROUNDS };

static const struct ftg_param_spec params[] = {
    {"mib", FTG_COMPUTE_MIB_DEFAULT, FTG_COMPUTE_MIB_MIN, FTG_COMPUTE_MIB_MAX},
    {"rounds", FTG_COMPUTE_ROUNDS_DEFAULT, FTG_COMPUTE_ROUNDS_MIN,
     FTG_COMPUTE_ROUNDS_MAX},
};

static struct ftg_outcome run(const uint64_t* values) {
  uint64_t mib = values[P_MIB], rounds = values[P_ROUNDS];
  uint64_t* buf = ftg_alloc_mib("compute", mib);
  if (buf == NULL) return ftg_bad_param();
  uint64_t words = mib * FTG_WORDS_PER_MIB;

  /* Same computation as ftg_ref_compute_scratch, cut into chunks. */
  uint64_t start = ftg_clock_ticks();
  for (uint64_t j = 0; j < words; j += CHUNK_WORDS) {
    ftg_compute_fill(buf, j, j + CHUNK_WORDS);
    ftg_clock_ticks();
  }
  uint64_t h = FTG_FNV_OFFSET;
  for (uint64_t r = 0; r < rounds; r++) {
    for (uint64_t j = 0; j < words; j += CHUNK_WORDS) {
      h = ftg_compute_pass(buf, j, j + CHUNK_WORDS, h);
      ftg_clock_ticks();
    }
    ftg_printf("ftguest: compute round=%lu/%lu hash=%016lx\n", r + 1, rounds,
               h);
  }
  uint64_t elapsed = ftg_clock_ticks() - start;
  ftg_printf("ftguest: compute mib=%lu rounds=%lu elapsed_us=%lu\n", mib,
             rounds, ftg_ticks_to_us(elapsed));
  return ftg_ok(h);
}

const struct ftg_workload ftg_workload_compute = {
    "compute", params, sizeof(params) / sizeof(params[0]), run};
