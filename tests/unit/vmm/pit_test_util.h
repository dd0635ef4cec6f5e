// What the 8254 tests share: the input clock, exact conversions between its
// ticks and nanoseconds (128-bit, no overflow), and fakes for IRQ 0's timer
// service and line.
#ifndef FTVM_TESTS_UNIT_VMM_PIT_TEST_UTIL_H_
#define FTVM_TESTS_UNIT_VMM_PIT_TEST_UTIL_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <utility>

#include "gtest/gtest.h"
#include "vmm/devices/irq_line.h"
#include "vmm/devices/pit_8254.h"
#include "vmm/events/timer_service.h"
#include "vmm/io/io_bus.h"

namespace ft::vmm::testing {

__extension__ typedef unsigned __int128 Uint128;

inline constexpr uint64_t kPitHz = 1'193'182;
inline constexpr int64_t kMs = 1'000'000;

// Whole PIT input ticks in `ns` nanoseconds (floor).
// One byte to or from PIT port `port` (0x40..0x43, or port B).
inline uint8_t PitAccess(Pit8254& pit, uint16_t port, bool write,
                         uint8_t value) {
  std::array<uint8_t, 1> b{value};
  pit.Access(IoAccess{.space = IoSpace::kPio,
                      .address = port,
                      .offset = uint64_t{port} - Pit8254::kPort,
                      .is_write = write,
                      .data = b});
  return b[0];
}
inline void PitOut(Pit8254& pit, uint16_t port, uint8_t value) {
  PitAccess(pit, port, true, value);
}
inline uint8_t PitIn(Pit8254& pit, uint16_t port) {
  return PitAccess(pit, port, false, 0x5a);
}

inline uint64_t Ticks(int64_t ns) {
  return static_cast<uint64_t>(static_cast<Uint128>(ns) * kPitHz /
                               1'000'000'000);
}
// The fewest nanoseconds that contain exactly `ticks` ticks.
inline int64_t NanosForTicks(uint64_t ticks) {
  return static_cast<int64_t>(
      (static_cast<Uint128>(ticks) * 1'000'000'000 + kPitHz - 1) / kPitHz);
}

// Timers that fire only when the test says so.
class FakeTimers : public TimerService {
 public:
  TimerId ScheduleAt(int64_t deadline_ns, Callback callback) override {
    timers_.emplace(next_, std::make_pair(deadline_ns, std::move(callback)));
    return next_++;
  }
  bool Cancel(TimerId id) override { return timers_.erase(id) > 0; }

  size_t armed() const { return timers_.size(); }
  int64_t next_deadline() const {
    EXPECT_FALSE(timers_.empty());
    int64_t best = INT64_MAX;
    for (const auto& [id, t] : timers_) best = std::min(best, t.first);
    return best;
  }
  // Runs the earliest timer, as the event loop would at its deadline.
  void FireNext() {
    auto best = timers_.begin();
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->second.first < best->second.first) best = it;
    }
    Callback callback = std::move(best->second.second);
    timers_.erase(best);
    callback();
  }

 private:
  TimerId next_ = 1;
  std::map<TimerId, std::pair<int64_t, Callback>> timers_;
};

class EdgeCounter : public IrqLine {
 public:
  void Set(bool level) override {
    if (level && !level_) ++rising;
    level_ = level;
  }
  int rising = 0;

 private:
  bool level_ = false;
};

}  // namespace ft::vmm::testing

#endif  // FTVM_TESTS_UNIT_VMM_PIT_TEST_UTIL_H_
