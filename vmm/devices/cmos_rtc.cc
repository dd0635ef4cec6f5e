#include "vmm/devices/cmos_rtc.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"

namespace ft::vmm {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

enum Register : uint8_t {
  kSeconds = 0x00,
  kMinutes = 0x02,
  kHours = 0x04,
  kDayOfWeek = 0x06,
  kDayOfMonth = 0x07,
  kMonth = 0x08,
  kYear = 0x09,
  kStatusA = 0x0a,
  kStatusB = 0x0b,
  kStatusC = 0x0c,
  kStatusD = 0x0d,
  kCentury = 0x32,
};

constexpr uint8_t kBSet = 0x80;
constexpr uint8_t kBUpdateInterruptEnable = 0x10;
constexpr uint8_t kBInterruptEnables = 0x70;  // PIE, AIE, UIE
constexpr uint8_t kBBinary = 0x04;
constexpr uint8_t kB24Hour = 0x02;
constexpr uint8_t kCUpdateEnded = 0x10;
constexpr uint8_t kCIrqf = 0x80;
constexpr uint8_t kDValidRam = 0x80;
constexpr uint8_t kADividerMask = 0x70;
constexpr uint8_t kADividerNormal = 0x20;

constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's
// algorithms, exact for every int64 year that fits).
constexpr int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

// The range of guest seconds uf_second can hold: Commit's, from the held
// time normalised (year 0..kMaxHeldYear), and the clock's.
constexpr int64_t kMinGuestSecond = DaysFromCivil(0, 1, 1) * kSecondsPerDay;
constexpr int64_t kMaxGuestSecond =
    DaysFromCivil(CmosRtc::kMaxHeldYear + 1, 1, 1) * kSecondsPerDay - 1;

}  // namespace

CmosRtc::State CmosRtc::SaveState() const {
  return State{.offset_ns = offset_ns_,
               .held_year = held_.year,
               .held_month = held_.month,
               .held_day = held_.day,
               .held_hour = held_.hour,
               .held_minute = held_.minute,
               .held_second = held_.second,
               .uf_second = uf_second_,
               .index = index_,
               .nmi_masked = nmi_masked_,
               .reg_a = reg_a_,
               .reg_b = reg_b_,
               .ram = ram_};
}

absl::Status CmosRtc::RestoreState(const State& state) {
  auto bad = [](const char* field, int64_t value, const char* must) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cmos-rtc: %s is %d, %s", field, value, must));
  };
  if (state.offset_ns < -kMaxOffsetNanos || state.offset_ns > kMaxOffsetNanos) {
    return bad("offset_ns", state.offset_ns, "must be within +-2^62");
  }
  if (state.held_year < 0 || state.held_year > kMaxHeldYear) {
    return bad("held_year", state.held_year, "must be 0..25599");
  }
  // Written while SET is on and not yet normalised: any decoded byte.
  const std::pair<const char*, int> held[] = {
      {"held_month", state.held_month},   {"held_day", state.held_day},
      {"held_hour", state.held_hour},     {"held_minute", state.held_minute},
      {"held_second", state.held_second},
  };
  for (const auto& [field, value] : held) {
    if (value < 0 || value > 255) return bad(field, value, "must be 0..255");
  }
  if (state.uf_second < kMinGuestSecond || state.uf_second > kMaxGuestSecond) {
    return bad("uf_second", state.uf_second,
               "must be -1 or a second of years 0..25599");
  }
  if (state.index > 0x7f) return bad("index", state.index, "must be 0..127");
  if (state.reg_a & 0x80) {
    return bad("reg_a", state.reg_a, "has UIP (bit 7) set; UIP is computed");
  }
  if ((state.reg_b & kBSet) && (state.reg_b & kBUpdateInterruptEnable)) {
    return bad("reg_b", state.reg_b, "has SET and UIE; SET clears UIE");
  }
  offset_ns_ = state.offset_ns;
  held_ = DateTime{.year = state.held_year,
                   .month = state.held_month,
                   .day = state.held_day,
                   .hour = state.held_hour,
                   .minute = state.held_minute,
                   .second = state.held_second};
  uf_second_ = state.uf_second;
  index_ = state.index;
  nmi_masked_ = state.nmi_masked;
  reg_a_ = state.reg_a;
  reg_b_ = state.reg_b;
  ram_ = state.ram;
  return absl::OkStatus();
}

int64_t CmosRtc::GuestNanos() { return clock_->UnixNanos() + offset_ns_; }

CmosRtc::DateTime CmosRtc::Now() {
  if (set_mode()) return held_;
  const int64_t seconds = FloorDiv(GuestNanos(), kNanosPerSecond);
  const int64_t days = FloorDiv(seconds, kSecondsPerDay);
  const int64_t in_day = seconds - days * kSecondsPerDay;
  DateTime t;
  CivilFromDays(days, &t.year, &t.month, &t.day);
  // Two digits of year and two of century: the chip cannot say more.
  t.year = std::clamp<int64_t>(t.year, 0, 9999);
  t.hour = static_cast<int>(in_day / 3600);
  t.minute = static_cast<int>(in_day / 60 % 60);
  t.second = static_cast<int>(in_day % 60);
  return t;
}

void CmosRtc::Commit(DateTime t) {
  t.month = std::clamp(t.month, 1, 12);
  t.day = std::clamp(t.day, 1, 31);
  t.hour = std::clamp(t.hour, 0, 23);
  t.minute = std::clamp(t.minute, 0, 59);
  t.second = std::clamp(t.second, 0, 59);
  int64_t seconds = DaysFromCivil(t.year, t.month, t.day) * kSecondsPerDay +
                    t.hour * 3600 + t.minute * 60 + t.second;
  // The guest's time is the clock's plus an offset within kMaxOffsetNanos
  // (about 146 years), so that neither overflows int64 nanoseconds: a date
  // further out (the registers reach year 9999) is held at that bound.
  const int64_t now = clock_->UnixNanos();
  const int64_t earliest = -FloorDiv(kMaxOffsetNanos - now, kNanosPerSecond);
  const int64_t latest = FloorDiv(now + kMaxOffsetNanos, kNanosPerSecond);
  seconds = std::clamp(seconds, earliest, latest);
  // The new second starts now, as the divider chain restarts on the chip.
  offset_ns_ = seconds * kNanosPerSecond - now;
  uf_second_ = seconds;
}

uint8_t CmosRtc::Encode(int value) const {
  if (reg_b_ & kBBinary) return static_cast<uint8_t>(value);
  return static_cast<uint8_t>(((value / 10) << 4) | (value % 10));
}

int CmosRtc::Decode(uint8_t value) const {
  if (reg_b_ & kBBinary) return value;
  return (value >> 4) * 10 + (value & 0x0f);
}

uint8_t CmosRtc::Read(uint8_t index) {
  switch (index) {
    case kSeconds:
      return Encode(Now().second);
    case kMinutes:
      return Encode(Now().minute);
    case kHours: {
      const int hour = Now().hour;
      if (reg_b_ & kB24Hour) return Encode(hour);
      const int h12 = hour % 12 == 0 ? 12 : hour % 12;
      return static_cast<uint8_t>(Encode(h12) | (hour >= 12 ? 0x80 : 0));
    }
    case kDayOfWeek: {
      const DateTime t = Now();
      const int64_t days = DaysFromCivil(t.year, t.month, t.day);
      // 1970-01-01 was a Thursday; the chip counts Sunday as 1.
      const int64_t weekday = days + 4 - FloorDiv(days + 4, 7) * 7;
      return Encode(static_cast<int>(weekday) + 1);
    }
    case kDayOfMonth:
      return Encode(Now().day);
    case kMonth:
      return Encode(Now().month);
    case kYear:
      return Encode(static_cast<int>(Now().year % 100));
    case kCentury:
      return Encode(static_cast<int>(Now().year / 100));
    case kStatusA: {
      const int64_t phase =
          GuestNanos() -
          FloorDiv(GuestNanos(), kNanosPerSecond) * kNanosPerSecond;
      const bool uip = !set_mode() &&
                       (reg_a_ & kADividerMask) == kADividerNormal &&
                       phase >= kNanosPerSecond - kUipWindowNanos;
      return static_cast<uint8_t>(reg_a_ | (uip ? 0x80 : 0));
    }
    case kStatusB:
      return reg_b_;
    case kStatusC: {
      uint8_t flags = 0;
      if (!set_mode()) {
        const int64_t second = FloorDiv(GuestNanos(), kNanosPerSecond);
        if (uf_second_ >= 0 && second != uf_second_) flags |= kCUpdateEnded;
        uf_second_ = second;
      }
      if (flags & reg_b_ & kBInterruptEnables) flags |= kCIrqf;
      return flags;
    }
    case kStatusD:
      return kDValidRam;
    default:  // alarms and NVRAM
      return ram_[index];
  }
}

void CmosRtc::Write(uint8_t index, uint8_t value) {
  DateTime t = Now();
  switch (index) {
    case kSeconds:
      t.second = Decode(value);
      break;
    case kMinutes:
      t.minute = Decode(value);
      break;
    case kHours:
      if (reg_b_ & kB24Hour) {
        t.hour = Decode(value);
      } else {
        t.hour = Decode(value & 0x7f) % 12 + ((value & 0x80) ? 12 : 0);
      }
      break;
    case kDayOfMonth:
      t.day = Decode(value);
      break;
    case kMonth:
      t.month = Decode(value);
      break;
    case kYear:
      t.year = t.year / 100 * 100 + Decode(value) % 100;
      break;
    case kCentury:
      t.year = int64_t{Decode(value)} * 100 + t.year % 100;
      break;
    case kDayOfWeek:  // derived from the date
    case kStatusC:    // read-only
    case kStatusD:
      return;
    case kStatusA:
      reg_a_ = value & 0x7f;  // UIP is read-only
      return;
    case kStatusB: {
      const bool was_set = set_mode();
      if (!was_set && (value & kBSet)) held_ = Now();
      // Setting SET clears UIE, as on the chip.
      reg_b_ = (value & kBSet) ? (value & ~kBUpdateInterruptEnable) : value;
      if (was_set && !(value & kBSet)) Commit(held_);
      return;
    }
    default:  // alarms and NVRAM
      ram_[index] = value;
      return;
  }
  if (set_mode()) {
    held_ = t;
  } else {
    Commit(t);
  }
}

void CmosRtc::Access(const IoAccess& access) {
  for (size_t i = 0; i < access.data.size(); ++i) {
    uint8_t& byte = access.data[i];
    if (access.offset + i == 0) {
      if (access.is_write) {
        index_ = byte & 0x7f;
        nmi_masked_ = (byte & 0x80) != 0;
      } else {
        byte = 0xff;  // the index register is write-only
      }
    } else if (access.is_write) {
      Write(index_, byte);
    } else {
      byte = Read(index_);
    }
  }
}

}  // namespace ft::vmm
