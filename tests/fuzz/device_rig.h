// What the legacy-device fuzz target and its seed writer both need to run
// a device outside a machine: timers that never fire, and an interrupt
// line that goes nowhere (port accesses:
// tests/unit/vmm/device_state_test_util.h).
//
// Single-threaded, like the tools that use it.
#ifndef FTVM_TESTS_FUZZ_DEVICE_RIG_H_
#define FTVM_TESTS_FUZZ_DEVICE_RIG_H_

#include <cstdint>

#include "vmm/devices/irq_line.h"
#include "vmm/events/timer_service.h"

namespace ft::vmm::fuzz {

// Timers that never fire: what a restore arms is looked at, not run.
class IdleTimers : public TimerService {
 public:
  TimerId ScheduleAt(int64_t, Callback) override { return next_++; }
  bool Cancel(TimerId) override { return true; }

 private:
  TimerId next_ = 1;
};

class NullLine : public IrqLine {
 public:
  void Set(bool) override {}
};

}  // namespace ft::vmm::fuzz

#endif  // FTVM_TESTS_FUZZ_DEVICE_RIG_H_
