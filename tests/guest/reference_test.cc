// Pins ftguest/reference.h to golden values.
//
// The guest and the host tests share reference.h, so a change to a workload
// algorithm there would change both sides together and go unnoticed; these
// constants make such a change deliberate (update them, and the VMM's
// recorded expectations, in the same commit).
#include "ftguest/reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace {

TEST(GuestReference, HelloIsFnv1aOfTheGreeting) {
  EXPECT_EQ(ftg_fnv1a64("", 0), FTG_FNV_OFFSET);
  EXPECT_EQ(ftg_fnv1a64("a", 1),
            0xaf63dc4c8601ec8cULL);  // published FNV-1a vector
  EXPECT_EQ(ftg_ref_hello(), 0xec6bec08a9a88aa6ULL);
}

TEST(GuestReference, ComputeGolden) {
  EXPECT_EQ(ftg_ref_compute(1, 1), 0x21b63e9e3444f4c7ULL);
  EXPECT_EQ(ftg_ref_compute(3, 1), 0x4d123694a43ac1e0ULL);
  EXPECT_EQ(ftg_ref_compute(2, 2), 0x616b97000b81942fULL);
}

TEST(GuestReference, ComputeChunkedEqualsWhole) {
  // The guest fills and hashes in 1 MiB chunks between PIT polls.
  const uint64_t words = 2 * FTG_WORDS_PER_MIB;
  std::vector<uint64_t> buf(words);
  ftg_compute_fill(buf.data(), 0, words / 2);
  ftg_compute_fill(buf.data(), words / 2, words);
  uint64_t h = FTG_FNV_OFFSET;
  for (int r = 0; r < 2; r++) {
    h = ftg_compute_pass(buf.data(), 0, words / 2, h);
    h = ftg_compute_pass(buf.data(), words / 2, words, h);
  }
  EXPECT_EQ(h, ftg_ref_compute(2, 2));
}

TEST(GuestReference, MemdirtyMatchesASimulation) {
  // The reference computes the final memory analytically; check it against
  // a literal simulation of the guest's write sequence, including wrap-around
  // into a second pass.
  const uint64_t mib = 1, rate = 300, seconds = 1;
  const uint64_t pages = mib * 256, words = mib * FTG_WORDS_PER_MIB;
  std::vector<uint64_t> ws(words);
  for (uint64_t j = 0; j < words; j++) ws[j] = ftg_memdirty_init_word(j);
  for (uint64_t k = 0; k < rate * seconds; k++)
    ws[(k % pages) * FTG_WORDS_PER_PAGE] =
        ftg_memdirty_value(k % pages, k / pages);
  uint64_t h = FTG_FNV_OFFSET;
  for (uint64_t w : ws) h = ftg_hash_word(h, w);
  EXPECT_EQ(h, ftg_ref_memdirty(mib, rate, seconds));
  EXPECT_EQ(ftg_ref_memdirty(64, 2000, 2), 0x6ff8018d87005798ULL);
}

TEST(GuestReference, PioGolden) {
  EXPECT_EQ(ftg_ref_pio(10000), 0x3429ed96ad732c9aULL);
}

TEST(GuestReference, TimerGolden) {
  EXPECT_EQ(ftg_ref_timer(20, 10), 0xb0aa16e57efc0f7fULL);
  EXPECT_EQ(ftg_ref_timer(10, 7), 0x1249152f8c944ccbULL);
  EXPECT_NE(ftg_ref_timer(10, 7), ftg_ref_timer(10, 8));  // ms counts
}

TEST(GuestReference, DiskMatchesASimulation) {
  // Literal simulation of the guest's write sequence on an in-memory disk
  // (with a second pass over part of it), hashed the way the guest hashes
  // its final read-back.
  const uint64_t mib = 1, rate = 300, seconds = 1;
  const uint64_t blocks = mib * FTG_MIB / FTG_DISK_BLOCK_SIZE;
  const uint64_t writes = rate * seconds;
  std::vector<uint64_t> disk(blocks * FTG_DISK_WORDS_PER_BLOCK, 0);
  std::vector<bool> written(blocks, false);
  for (uint64_t k = 0; k < writes; k++) {
    uint64_t i = k % blocks, p = k / blocks;
    if (p > 0) {  // the guest's read-before-write check
      std::vector<uint64_t> prev(FTG_DISK_WORDS_PER_BLOCK);
      ftg_disk_fill_block(prev.data(), i, p - 1);
      ASSERT_TRUE(std::equal(prev.begin(), prev.end(),
                             disk.begin() + i * FTG_DISK_WORDS_PER_BLOCK));
    }
    ftg_disk_fill_block(disk.data() + i * FTG_DISK_WORDS_PER_BLOCK, i, p);
    written[i] = true;
  }
  uint64_t h = FTG_FNV_OFFSET;
  for (uint64_t i = 0; i < blocks; i++) {
    EXPECT_EQ(written[i], ftg_disk_final_pass(i, blocks, writes) >= 0);
    if (!written[i]) continue;
    for (uint64_t j = 0; j < FTG_DISK_WORDS_PER_BLOCK; j++)
      h = ftg_hash_word(h, disk[i * FTG_DISK_WORDS_PER_BLOCK + j]);
  }
  EXPECT_EQ(h, ftg_ref_disk(mib, rate, seconds));
  EXPECT_EQ(ftg_ref_disk(1, 300, 1), 0xa34e8ba70f41f02fULL);
  EXPECT_EQ(ftg_ref_disk(4, 200, 2), 0xfd30cd5534bece48ULL);
  // Fewer writes than blocks: only the written prefix counts.
  EXPECT_NE(ftg_ref_disk(1, 20, 1), ftg_ref_disk(1, 21, 1));
  EXPECT_EQ(ftg_ref_disk(1, 20, 1), ftg_ref_disk(2, 20, 1));
}

TEST(GuestReference, DiskPatternDiffersPerBlockAndPass) {
  std::vector<uint64_t> a(FTG_DISK_WORDS_PER_BLOCK), b(a.size()), c(a.size());
  ftg_disk_fill_block(a.data(), 5, 0);
  ftg_disk_fill_block(b.data(), 6, 0);
  ftg_disk_fill_block(c.data(), 5, 1);
  for (size_t j = 0; j < a.size(); j++) {
    EXPECT_NE(a[j], b[j]) << j;
    EXPECT_NE(a[j], c[j]) << j;
  }
}

TEST(GuestReference, DefaultsAreWithinBounds) {
  EXPECT_LE(FTG_COMPUTE_MIB_MIN, FTG_COMPUTE_MIB_DEFAULT);
  EXPECT_LE(FTG_COMPUTE_MIB_DEFAULT, FTG_COMPUTE_MIB_MAX);
  EXPECT_LE(FTG_MEMDIRTY_RATE_DEFAULT, FTG_MEMDIRTY_RATE_MAX);
  // memdirty's pacing computes ticks * rate in 64 bits.
  const double max_ticks = 1.01 * FTG_MEMDIRTY_SECONDS_MAX * FTG_PIT_HZ;
  EXPECT_LT(max_ticks * FTG_MEMDIRTY_RATE_MAX, 1.8e19);
  EXPECT_LE(FTG_TIMER_COUNT_MIN, FTG_TIMER_COUNT_DEFAULT);
  EXPECT_LE(FTG_TIMER_COUNT_DEFAULT, FTG_TIMER_COUNT_MAX);
  EXPECT_LE(FTG_TIMER_MS_MIN, FTG_TIMER_MS_DEFAULT);
  EXPECT_LE(FTG_TIMER_MS_DEFAULT, FTG_TIMER_MS_MAX);
  // The timer workload computes k * ms in milliseconds, then ticks.
  EXPECT_LT(1.0 * FTG_TIMER_COUNT_MAX * FTG_TIMER_MS_MAX * FTG_PIT_HZ, 1.8e19);
  EXPECT_LE(FTG_DISK_MIB_MIN, FTG_DISK_MIB_DEFAULT);
  EXPECT_LE(FTG_DISK_MIB_DEFAULT, FTG_DISK_MIB_MAX);
  EXPECT_LE(FTG_DISK_RATE_DEFAULT, FTG_DISK_RATE_MAX);
  EXPECT_LE(FTG_DISK_FLUSH_DEFAULT, FTG_DISK_FLUSH_MAX);
  // The disk workload paces write k at k * FTG_PIT_HZ / rate ticks.
  EXPECT_LT(1.0 * FTG_DISK_RATE_MAX * FTG_DISK_SECONDS_MAX * FTG_PIT_HZ,
            1.8e19);
}

}  // namespace
