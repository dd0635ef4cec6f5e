// Pins ftguest/reference.h to golden values.
//
// The guest and the host tests share reference.h, so a change to a workload
// algorithm there would change both sides together and go unnoticed; these
// constants make such a change deliberate (update them, and the VMM's
// recorded expectations, in the same commit).
#include "ftguest/reference.h"

#include <gtest/gtest.h>

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

TEST(GuestReference, DefaultsAreWithinBounds) {
  EXPECT_LE(FTG_COMPUTE_MIB_MIN, FTG_COMPUTE_MIB_DEFAULT);
  EXPECT_LE(FTG_COMPUTE_MIB_DEFAULT, FTG_COMPUTE_MIB_MAX);
  EXPECT_LE(FTG_MEMDIRTY_RATE_DEFAULT, FTG_MEMDIRTY_RATE_MAX);
  // memdirty's pacing computes ticks * rate in 64 bits.
  const double max_ticks = 1.01 * FTG_MEMDIRTY_SECONDS_MAX * FTG_PIT_HZ;
  EXPECT_LT(max_ticks * FTG_MEMDIRTY_RATE_MAX, 1.8e19);
}

}  // namespace
