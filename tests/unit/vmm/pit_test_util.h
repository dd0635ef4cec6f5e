// PIT tick arithmetic shared by the 8254 tests: the input clock, and exact
// conversions between its ticks and nanoseconds (128-bit, no overflow).
#ifndef FTVM_TESTS_UNIT_VMM_PIT_TEST_UTIL_H_
#define FTVM_TESTS_UNIT_VMM_PIT_TEST_UTIL_H_

#include <cstdint>

namespace ft::vmm::testing {

__extension__ typedef unsigned __int128 Uint128;

inline constexpr uint64_t kPitHz = 1'193'182;
inline constexpr int64_t kMs = 1'000'000;

// Whole PIT input ticks in `ns` nanoseconds (floor).
inline uint64_t Ticks(int64_t ns) {
  return static_cast<uint64_t>(static_cast<Uint128>(ns) * kPitHz /
                               1'000'000'000);
}
// The fewest nanoseconds that contain exactly `ticks` ticks.
inline int64_t NanosForTicks(uint64_t ticks) {
  return static_cast<int64_t>(
      (static_cast<Uint128>(ticks) * 1'000'000'000 + kPitHz - 1) / kPitHz);
}

}  // namespace ft::vmm::testing

#endif  // FTVM_TESTS_UNIT_VMM_PIT_TEST_UTIL_H_
