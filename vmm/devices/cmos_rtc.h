// The PC's CMOS real-time clock (a Motorola MC146818A) at ports 0x70-0x71:
// the guest's wall-clock time.
//
// Port 0x70 selects a register (bit 7 is the NMI mask, kept but without
// effect: ftvm raises no NMIs); port 0x71 reads or writes it.
//   0x00-0x09  seconds, alarm seconds, minutes, alarm minutes, hours, alarm
//              hours, day of week (1 = Sunday), day, month, year (00-99)
//   0x0a       status A: UIP (bit 7), divider and rate bits (stored only)
//   0x0b       status B: SET (bit 7) freezes the time for writing, DM
//              (bit 2) binary instead of BCD, 24/12 (bit 1); default 0x02,
//              BCD and 24-hour, as a PC BIOS leaves it
//   0x0c       status C: UF (bit 4) when an update has completed since the
//              last read of C; reading clears it
//   0x0d       status D: VRT, the battery is good
//   0x32       century (19, 20, ...)
//   the rest   114 bytes of battery-backed RAM (with 0x32's slot)
//
// Time is the RealtimeClock plus an offset that guest writes of the date set,
// so a guest that sets its clock keeps it, and nothing here stores
// broken-down time that would need a ticking thread. Writes to the time
// registers take effect at once, or when SET is cleared if it was set.
// Day of week is derived from the date (writes to it are ignored), and a
// written date is normalised (month 1-12, day carried into the next month).
//
// UIP is reported for the 2228 us (the chip's 244 us warning plus its
// 1984 us update) before each second boundary, at which the time registers
// change at once. A guest that reads after seeing UIP clear therefore has at
// least 2.2 ms to read a consistent time, which matters here: every register
// read costs two VM exits of 60-80 us each.
//
// Not modelled: interrupts (IRQ 8: periodic, alarm and update-ended; the
// enable bits in B are kept and C's IRQF reflects them, but the line is
// never raised), the divider's reset states (A bits 4-6 never stop the
// clock), and daylight saving (B bit 0).
//
// Every read returns a function of the clock and the guest's writes: the
// values are nondeterministic inputs, recorded at the I/O bus.
//
// Thread ownership: called through the IoBus (serialized by it).
#ifndef FTVM_VMM_DEVICES_CMOS_RTC_H_
#define FTVM_VMM_DEVICES_CMOS_RTC_H_

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "common/clock.h"
#include "vmm/io/io_bus.h"

namespace ft::vmm {

class CmosRtc : public IoDevice {
 public:
  static constexpr uint16_t kPort = 0x70;
  static constexpr uint16_t kPortCount = 2;
  static constexpr int64_t kUipWindowNanos = 2'228'000;

  // The latest year the registers can hold while SET is on: century 255
  // (binary) and year 99.
  static constexpr int64_t kMaxHeldYear = 255 * 100 + 99;
  // |offset_ns| bound: the guest's time stays within about 146 years of
  // the clock's (a date set further out is held there), so their sum
  // cannot overflow.
  static constexpr int64_t kMaxOffsetNanos = int64_t{1} << 62;

  // The whole guest-visible state, as plain values (the save/restore
  // contract). The clock is not included: a restored RTC adds the saved
  // offset to its own machine's clock.
  struct State {
    int64_t offset_ns = 0;  // guest time minus the clock
    // The time being written while SET is on (unnormalised, as written).
    int64_t held_year = 1970;  // 0..kMaxHeldYear
    int held_month = 1;        // the rest 0..255
    int held_day = 1;
    int held_hour = 0;
    int held_minute = 0;
    int held_second = 0;
    int64_t uf_second = -1;  // guest second at the last read of C, or -1
    uint8_t index = 0;       // 0..0x7f
    bool nmi_masked = false;
    uint8_t reg_a = 0x26;  // bit 7 (UIP) clear
    uint8_t reg_b = 0x02;  // SET (bit 7) implies UIE (bit 4) clear
    std::array<uint8_t, 128> ram{};
    friend bool operator==(const State&, const State&) = default;
  };

  // `clock` must outlive the device.
  explicit CmosRtc(RealtimeClock* clock) : clock_(clock) {}

  std::string_view name() const override { return "cmos-rtc"; }
  void Access(const IoAccess& access) override;

  State SaveState() const;
  // Replaces the state. The values come from a peer: every field is checked
  // (ranges); on error nothing changes. Reads no clock, so a replaying
  // machine's log is not consumed.
  absl::Status RestoreState(const State& state);

 private:
  struct DateTime {
    int64_t year = 1970;
    int month = 1;  // 1-12
    int day = 1;    // 1-31
    int hour = 0;
    int minute = 0;
    int second = 0;
  };

  int64_t GuestNanos();
  DateTime Now();
  // Makes `t` the guest's time from this moment on.
  void Commit(DateTime t);
  uint8_t Read(uint8_t index);
  void Write(uint8_t index, uint8_t value);
  uint8_t Encode(int value) const;
  int Decode(uint8_t value) const;
  bool set_mode() const { return (reg_b_ & 0x80) != 0; }

  RealtimeClock* clock_;
  int64_t offset_ns_ = 0;   // guest time minus the clock
  DateTime held_;           // the time being written while SET is on
  int64_t uf_second_ = -1;  // guest second at the last read of C
  uint8_t index_ = 0;
  bool nmi_masked_ = false;
  uint8_t reg_a_ = 0x26;            // 32.768 kHz time base, 1024 Hz rate
  uint8_t reg_b_ = 0x02;            // 24-hour, BCD
  std::array<uint8_t, 128> ram_{};  // alarms and NVRAM
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_DEVICES_CMOS_RTC_H_
