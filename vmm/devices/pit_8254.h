// An Intel 8254 programmable interval timer (ports 0x40-0x43) and the
// channel-2 gate/output bits of port 0x61.
//
// Counters are derived from a Clock at 1.193182 MHz when read, so an idle
// guest costs nothing. Interrupt output (IRQ 0) arrives with the interrupt
// controller. Reads of the counters are the guest's time source: they are
// nondeterministic inputs, recorded at the I/O bus.
//
// Thread ownership: called through the IoBus (serialized by it).
#ifndef FTVM_VMM_DEVICES_PIT_8254_H_
#define FTVM_VMM_DEVICES_PIT_8254_H_

#include <array>
#include <cstdint>

#include "common/clock.h"
#include "vmm/io/io_bus.h"

namespace ft::vmm {

class Pit8254 : public IoDevice {
 public:
  static constexpr uint16_t kPort = 0x40;
  static constexpr uint16_t kPortCount = 4;
  static constexpr uint16_t kControlPortB = 0x61;
  static constexpr uint64_t kFrequencyHz = 1'193'182;

  // `clock` must outlive the device.
  explicit Pit8254(Clock* clock) : clock_(clock) {}

  std::string_view name() const override { return "pit-8254"; }
  void Access(const IoAccess& access) override;

 private:
  enum class AccessMode : uint8_t { kLatch = 0, kLsb = 1, kMsb = 2, kWord = 3 };

  struct Channel {
    uint8_t mode = 0;
    AccessMode access = AccessMode::kWord;
    uint32_t reload = 0x10000;  // 0 programmed means 65536
    int64_t load_ns = 0;
    // Ticks counted before the last gate stop/resume.
    uint64_t paused_ticks = 0;
    bool counting = false;  // a count has been written
    bool gate = true;
    // Read side: a latched count, and which byte comes next.
    bool latched = false;
    uint16_t latch_value = 0;
    bool read_msb_next = false;
    // Write side: the LSB while waiting for the MSB.
    bool write_msb_next = false;
    uint8_t pending_lsb = 0;
    // Read-back status latch.
    bool status_latched = false;
    uint8_t status = 0;
  };

  uint64_t TicksSinceLoad(const Channel& ch);
  uint16_t CurrentCount(const Channel& ch);
  bool Output(const Channel& ch);
  uint8_t ReadCounter(Channel& ch);
  void WriteCounter(Channel& ch, uint8_t value);
  void WriteControl(uint8_t value);
  void LatchStatus(Channel& ch);

  Clock* clock_;
  std::array<Channel, 3> channels_{};
  uint8_t port_b_ = 0;  // bits 0-3 as written to port 0x61
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_DEVICES_PIT_8254_H_
