// What the legacy-device fuzz target and its seed writer both need to run
// a device outside a machine: timers that never fire, an interrupt line
// that goes nowhere, and one-byte port accesses.
//
// Single-threaded, like the tools that use it.
#ifndef FTVM_TESTS_FUZZ_DEVICE_RIG_H_
#define FTVM_TESTS_FUZZ_DEVICE_RIG_H_

#include <array>
#include <cstdint>

#include "vmm/devices/irq_line.h"
#include "vmm/events/timer_service.h"
#include "vmm/io/io_bus.h"

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

// One byte at `port` (`offset` within the device's ports); returns what a
// read gave (a write's value back).
inline uint8_t PortAccess(IoDevice& device, uint16_t port, uint64_t offset,
                          bool is_write, uint8_t value = 0) {
  std::array<uint8_t, 1> b{value};
  device.Access(IoAccess{.space = IoSpace::kPio,
                         .address = port,
                         .offset = offset,
                         .is_write = is_write,
                         .data = b});
  return b[0];
}

}  // namespace ft::vmm::fuzz

#endif  // FTVM_TESTS_FUZZ_DEVICE_RIG_H_
