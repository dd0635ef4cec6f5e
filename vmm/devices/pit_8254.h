// An Intel 8254 programmable interval timer (ports 0x40-0x43) and the
// channel-2 gate/output bits of port 0x61.
//
// Counters are derived from a Clock at 1.193182 MHz when read, so an idle
// guest costs nothing. Reads of the counters are the guest's time source:
// they are nondeterministic inputs, recorded at the I/O bus.
//
// IRQ 0: when wired (Irq0Wiring), channel 0 raises IRQ 0 on each rising edge
// of its output: once at terminal count in modes 0 and 4 (one-shot: a guest
// that re-arms it only when it needs to takes no periodic ticks), and once
// per period in modes 2 and 3. Modes 1 and 5 never fire on channel 0, whose
// gate is tied high on a PC and so never triggers them. The PIT computes when
// the next edge is due and asks the TimerService for it; the timer callback
// only posts an AsyncEvent, and the edge is raised when that event is
// delivered on the vCPU thread. The expiry is therefore data that the
// record/replay layer logs at the position where it is delivered. Each armed
// timer has a new generation number, carried in the event, so an expiry that
// raced with reprogramming is recognised and dropped. Late deliveries of a
// periodic timer coalesce into one edge, as edges do in a real PIC's IRR.
//
// Thread ownership: called through the IoBus and from event delivery, both
// on the vCPU thread. The timer callback (on the TimerService's thread)
// touches only the AsyncEventQueue.
#ifndef FTVM_VMM_DEVICES_PIT_8254_H_
#define FTVM_VMM_DEVICES_PIT_8254_H_

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "common/clock.h"
#include "vmm/devices/irq_line.h"
#include "vmm/events/async_event.h"
#include "vmm/events/timer_service.h"
#include "vmm/io/io_bus.h"

namespace ft::vmm {

class Pit8254 : public IoDevice, public AsyncEventSink {
 public:
  static constexpr uint16_t kPort = 0x40;
  static constexpr uint16_t kPortCount = 4;
  static constexpr uint16_t kControlPortB = 0x61;
  static constexpr uint64_t kFrequencyHz = 1'193'182;

  // AsyncEvent kind of a channel-0 expiry; data: the 8-byte little-endian
  // generation of the timer that expired.
  static constexpr uint32_t kExpiryEvent = 1;

  // What channel 0 needs to raise IRQ 0. All must outlive the device; the
  // device registers itself with `events` (so it is built at set-up time).
  struct Irq0Wiring {
    IrqLine* irq0 = nullptr;
    TimerService* timers = nullptr;
    AsyncEventQueue* events = nullptr;
  };

  // One counter's guest-visible state. Nanoseconds are on the machine's
  // device clock (logged values under record/replay), so they transfer as is.
  struct ChannelState {
    uint8_t mode = 0;    // 0..5
    uint8_t access = 3;  // 1: LSB, 2: MSB, 3: LSB then MSB (never 0, latch)
    uint32_t reload = 0x10000;  // 1..0x10000
    int64_t load_ns = 0;        // 0..kMaxNanos
    uint64_t paused_ticks = 0;
    bool counting = false;
    bool gate = true;
    bool latched = false;
    uint16_t latch_value = 0;
    bool read_msb_next = false;
    bool write_msb_next = false;
    uint8_t pending_lsb = 0;
    bool status_latched = false;
    uint8_t status = 0;
    friend bool operator==(const ChannelState&, const ChannelState&) = default;
  };
  // The whole guest-visible state, as plain values (the save/restore
  // contract). The IRQ 0 timer is carried as "armed" plus the generation and
  // edge of the last scheduled timer, so that a later expiry event (from a
  // log) is accepted or dropped exactly as on the saving machine; the host
  // timer id is local.
  struct State {
    std::array<ChannelState, 3> channels;
    uint8_t port_b = 0;  // bits 0-3 as written to port 0x61
    bool irq0_armed = false;
    uint64_t irq0_generation = 0;
    uint64_t irq0_edge_ticks = 0;
    friend bool operator==(const State&, const State&) = default;
  };
  // Clock values in a restored state are at most this (about 146 years of
  // nanoseconds), so deadlines computed from them cannot overflow.
  static constexpr int64_t kMaxNanos = int64_t{1} << 62;

  // `clock` must outlive the device. Without wiring, no interrupts.
  explicit Pit8254(Clock* clock) : clock_(clock) {}
  Pit8254(Clock* clock, Irq0Wiring wiring);
  ~Pit8254() override;
  Pit8254(const Pit8254&) = delete;
  Pit8254& operator=(const Pit8254&) = delete;

  std::string_view name() const override { return "pit-8254"; }
  void Access(const IoAccess& access) override;
  void OnAsyncEvent(const AsyncEvent& event) override;

  // Whether a channel-0 expiry is scheduled (for tests and diagnostics).
  bool irq0_timer_armed() const { return timer_ != 0; }

  State SaveState() const;
  // Replaces the state. The values come from a peer: every field is checked
  // (ranges, enum values, the timer against channel 0); on error nothing
  // changes. An armed timer is re-armed locally with the saved generation.
  // Reads no clock, so a replaying machine's log is not consumed.
  absl::Status RestoreState(const State& state);

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
  // Channel 0 was reprogrammed: cancels the pending expiry and, if the
  // channel now counts in a mode that interrupts, schedules its first edge.
  void RearmIrq0();
  // Schedules the channel-0 edge `edge_ticks` input ticks after its load.
  void ScheduleIrq0(uint64_t edge_ticks);
  // Asks the TimerService for the edge at edge_ticks_, for generation_.
  void ArmIrq0Timer();
  void CancelIrq0();

  Clock* clock_;
  Irq0Wiring wiring_;
  uint32_t event_source_ = 0;
  TimerService::TimerId timer_ = 0;  // 0: none scheduled
  uint64_t generation_ = 0;          // of the timer last scheduled
  uint64_t edge_ticks_ = 0;          // when that timer's edge is due
  std::array<Channel, 3> channels_{};
  uint8_t port_b_ = 0;  // bits 0-3 as written to port 0x61
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_DEVICES_PIT_8254_H_
