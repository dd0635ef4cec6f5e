#include "vmm/devices/pit_8254.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/log.h"
#include "common/status.h"

namespace ft::vmm {
namespace {

// 128-bit intermediate: ns * Hz overflows 64 bits after ~2.5 hours.
__extension__ typedef unsigned __int128 Uint128;

constexpr int64_t kNanosPerSecond = 1'000'000'000;
// Port 0x61 bit 4 toggles with the DRAM refresh, every ~15.085 us.
constexpr int64_t kRefreshPeriodNs = 15'085;

// Modes 1 and 5 are started by the gate, not by writing the count.
bool GateTriggered(uint8_t mode) { return mode == 1 || mode == 5; }

bool Periodic(uint8_t mode) { return mode == 2 || mode == 3; }

// The first nanosecond at which `ticks` whole input ticks have elapsed.
int64_t NanosForTicks(uint64_t ticks) {
  return static_cast<int64_t>((static_cast<Uint128>(ticks) * kNanosPerSecond +
                               Pit8254::kFrequencyHz - 1) /
                              Pit8254::kFrequencyHz);
}

// The latest IRQ 0 edge a restored state may ask for: its deadline stays
// within kMaxNanos.
constexpr uint64_t kMaxEdgeTicks =
    static_cast<uint64_t>(static_cast<Uint128>(Pit8254::kMaxNanos) *
                          Pit8254::kFrequencyHz / kNanosPerSecond);

absl::Status CheckChannel(const Pit8254::ChannelState& ch, int index) {
  auto bad = [index](const char* field, uint64_t value, const char* must) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pit-8254: channels[%d].%s is %u, %s", index, field, value, must));
  };
  if (ch.mode > 5) return bad("mode", ch.mode, "must be 0..5");
  if (ch.access < 1 || ch.access > 3) {
    return bad("access", ch.access, "must be 1 (LSB), 2 (MSB) or 3 (word)");
  }
  if (ch.reload < 1 || ch.reload > 0x10000) {
    return bad("reload", ch.reload, "must be 1..65536");
  }
  if (ch.load_ns < 0 || ch.load_ns > Pit8254::kMaxNanos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("pit-8254: channels[%d].load_ns is %d, must be 0..%d",
                        index, ch.load_ns, Pit8254::kMaxNanos));
  }
  // Byte order only alternates in word access; a control word resets it.
  if (ch.access != 3 && ch.read_msb_next) {
    return bad("read_msb_next", 1, "but only word access alternates bytes");
  }
  if (ch.access != 3 && ch.write_msb_next) {
    return bad("write_msb_next", 1, "but only word access alternates bytes");
  }
  // Only channel 2's gate is wired (port 0x61); 0 and 1 are tied high.
  if (index != 2 && !ch.gate) {
    return bad("gate", 0, "but channels 0 and 1 have their gate tied high");
  }
  if (index != 2 && ch.paused_ticks != 0) {
    return bad("paused_ticks", ch.paused_ticks,
               "but channels 0 and 1 never pause");
  }
  return absl::OkStatus();
}

// An armed timer is one RearmIrq0 or OnAsyncEvent could have scheduled.
absl::Status CheckIrq0Timer(const Pit8254::State& state) {
  if (!state.irq0_armed) return absl::OkStatus();
  const Pit8254::ChannelState& ch = state.channels[0];
  if (!ch.counting || GateTriggered(ch.mode)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pit-8254: irq0_armed is set, but channel 0 %s",
        ch.counting ? "is in a gate-triggered mode" : "is not counting"));
  }
  if (state.irq0_generation == 0) {
    return absl::InvalidArgumentError(
        "pit-8254: irq0_generation is 0 with irq0_armed set; the first timer "
        "is generation 1");
  }
  const uint64_t edge = state.irq0_edge_ticks;
  const bool consistent = Periodic(ch.mode)
                              ? edge >= ch.reload && edge % ch.reload == 0
                              : edge == ch.reload + (ch.mode == 4 ? 1 : 0);
  if (!consistent) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pit-8254: irq0_edge_ticks is %u, not an edge of channel 0 (mode %u, "
        "reload %u)",
        edge, ch.mode, ch.reload));
  }
  if (edge > kMaxEdgeTicks ||
      NanosForTicks(edge) > Pit8254::kMaxNanos - ch.load_ns) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pit-8254: irq0_edge_ticks is %u, its deadline is past %d ns", edge,
        Pit8254::kMaxNanos));
  }
  return absl::OkStatus();
}

}  // namespace

Pit8254::State Pit8254::SaveState() const {
  State state;
  for (size_t i = 0; i < channels_.size(); ++i) {
    const Channel& ch = channels_[i];
    state.channels[i] = ChannelState{
        .mode = ch.mode,
        .access = static_cast<uint8_t>(ch.access),
        .reload = ch.reload,
        .load_ns = ch.load_ns,
        .paused_ticks = ch.paused_ticks,
        .counting = ch.counting,
        .gate = ch.gate,
        .latched = ch.latched,
        .latch_value = ch.latch_value,
        .read_msb_next = ch.read_msb_next,
        .write_msb_next = ch.write_msb_next,
        .pending_lsb = ch.pending_lsb,
        .status_latched = ch.status_latched,
        .status = ch.status,
    };
  }
  state.port_b = port_b_;
  state.irq0_armed = timer_ != 0;
  state.irq0_generation = generation_;
  state.irq0_edge_ticks = edge_ticks_;
  return state;
}

absl::Status Pit8254::RestoreState(const State& state) {
  for (size_t i = 0; i < state.channels.size(); ++i) {
    FT_RETURN_IF_ERROR(CheckChannel(state.channels[i], static_cast<int>(i)));
  }
  if (state.port_b > 0x0f) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pit-8254: port_b is 0x%02x, only bits 0-3 are stored", state.port_b));
  }
  FT_RETURN_IF_ERROR(CheckIrq0Timer(state));
  if (state.irq0_armed && !wiring_.timers) {
    return absl::FailedPreconditionError(
        "pit-8254: the state has an IRQ 0 timer armed, but this PIT has no "
        "IRQ 0 wiring");
  }
  CancelIrq0();
  for (size_t i = 0; i < channels_.size(); ++i) {
    const ChannelState& from = state.channels[i];
    channels_[i] = Channel{
        .mode = from.mode,
        .access = static_cast<AccessMode>(from.access),
        .reload = from.reload,
        .load_ns = from.load_ns,
        .paused_ticks = from.paused_ticks,
        .counting = from.counting,
        .gate = from.gate,
        .latched = from.latched,
        .latch_value = from.latch_value,
        .read_msb_next = from.read_msb_next,
        .write_msb_next = from.write_msb_next,
        .pending_lsb = from.pending_lsb,
        .status_latched = from.status_latched,
        .status = from.status,
    };
  }
  port_b_ = state.port_b;
  // The saved generation, not a new one: expiries in the log carry it.
  generation_ = state.irq0_generation;
  edge_ticks_ = state.irq0_edge_ticks;
  // On a replaying machine the local timer's expiry is dropped by the sealed
  // queue; it is armed so that timer_ != 0 accepts the logged expiry and a
  // reprogramming cancels it, as on the saving machine.
  if (state.irq0_armed) ArmIrq0Timer();
  return absl::OkStatus();
}

uint64_t Pit8254::TicksSinceLoad(const Channel& ch) {
  if (!ch.counting) return 0;
  if (!ch.gate && !GateTriggered(ch.mode)) return ch.paused_ticks;
  int64_t elapsed = clock_->NowNanos() - ch.load_ns;
  if (elapsed < 0) elapsed = 0;
  Uint128 ticks =
      static_cast<Uint128>(elapsed) * kFrequencyHz / kNanosPerSecond;
  return ch.paused_ticks + static_cast<uint64_t>(ticks);
}

uint16_t Pit8254::CurrentCount(const Channel& ch) {
  if (!ch.counting) return static_cast<uint16_t>(ch.reload);
  const uint64_t n = ch.reload;
  const uint64_t t = TicksSinceLoad(ch);
  switch (ch.mode) {
    case 2:  // rate generator: N, N-1, ..., 1, N, ...
      return static_cast<uint16_t>(n - t % n);
    case 3: {  // square wave: counts down by two, twice per period
      uint64_t half = n / 2 ? n / 2 : 1;
      return static_cast<uint16_t>((n - 2 * (t % half)) & 0xfffe);
    }
    default:  // 0, 1, 4, 5: count down once, then wrap as a 16-bit counter
      return static_cast<uint16_t>((n - t) & 0xffff);
  }
}

bool Pit8254::Output(const Channel& ch) {
  if (!ch.counting) return ch.mode != 0;
  const uint64_t n = ch.reload;
  const uint64_t t = TicksSinceLoad(ch);
  switch (ch.mode) {
    case 0:
    case 1:
      return t >= n;  // goes high at terminal count and stays high
    case 2:
      return t % n != n - 1;  // low for one tick per period
    case 3:
      return t % n < (n + 1) / 2;
    default:  // 4, 5: one low tick at terminal count
      return t != n;
  }
}

void Pit8254::LatchStatus(Channel& ch) {
  if (ch.status_latched) return;
  ch.status = static_cast<uint8_t>(
      (Output(ch) ? 0x80 : 0) | (ch.counting ? 0 : 0x40) |
      (static_cast<uint8_t>(ch.access) << 4) | (ch.mode << 1));
  ch.status_latched = true;
}

uint8_t Pit8254::ReadCounter(Channel& ch) {
  if (ch.status_latched) {
    ch.status_latched = false;
    return ch.status;
  }
  uint16_t value = ch.latched ? ch.latch_value : CurrentCount(ch);
  uint8_t byte;
  switch (ch.access) {
    case AccessMode::kLsb:
      byte = value & 0xff;
      ch.latched = false;
      break;
    case AccessMode::kMsb:
      byte = value >> 8;
      ch.latched = false;
      break;
    default:
      byte = ch.read_msb_next ? value >> 8 : value & 0xff;
      if (ch.read_msb_next) ch.latched = false;
      ch.read_msb_next = !ch.read_msb_next;
      break;
  }
  return byte;
}

void Pit8254::WriteCounter(Channel& ch, uint8_t value) {
  uint16_t count;
  switch (ch.access) {
    case AccessMode::kLsb:
      count = value;
      break;
    case AccessMode::kMsb:
      count = static_cast<uint16_t>(value << 8);
      break;
    default:
      if (!ch.write_msb_next) {
        ch.pending_lsb = value;
        ch.write_msb_next = true;
        // In mode 0 the first byte stops the count: the old terminal count
        // must not interrupt between the guest's two writes.
        if (&ch == &channels_[0] && ch.mode == 0) CancelIrq0();
        return;
      }
      ch.write_msb_next = false;
      count = static_cast<uint16_t>(ch.pending_lsb | (value << 8));
      break;
  }
  ch.reload = count == 0 ? 0x10000 : count;
  ch.load_ns = clock_->NowNanos();
  ch.paused_ticks = 0;
  ch.counting = true;
  if (&ch == &channels_[0]) RearmIrq0();
}

void Pit8254::WriteControl(uint8_t value) {
  const uint8_t select = value >> 6;
  if (select == 3) {  // read-back command
    for (int i = 0; i < 3; ++i) {
      if (!(value & (2 << i))) continue;
      Channel& ch = channels_[i];
      if (!(value & 0x20) && !ch.latched) {
        ch.latch_value = CurrentCount(ch);
        ch.latched = true;
        ch.read_msb_next = false;
      }
      if (!(value & 0x10)) LatchStatus(ch);
    }
    return;
  }
  Channel& ch = channels_[select];
  const auto access = static_cast<AccessMode>((value >> 4) & 3);
  if (access == AccessMode::kLatch) {
    if (!ch.latched) {
      ch.latch_value = CurrentCount(ch);
      ch.latched = true;
      ch.read_msb_next = false;
    }
    return;
  }
  uint8_t mode = (value >> 1) & 7;
  if (mode >= 6) mode -= 4;  // 6 and 7 alias 2 and 3
  // BCD counting (bit 0) is not supported; counts are binary.
  ch.access = access;
  ch.mode = mode;
  ch.counting = false;
  ch.latched = false;
  ch.status_latched = false;
  ch.read_msb_next = false;
  ch.write_msb_next = false;
  if (select == 0) RearmIrq0();  // a control word stops the count
}

Pit8254::Pit8254(Clock* clock, Irq0Wiring wiring)
    : clock_(clock), wiring_(wiring) {
  FT_CHECK(wiring_.irq0 && wiring_.timers && wiring_.events)
      << "IRQ 0 wiring needs a line, a timer service and an event queue";
  event_source_ = wiring_.events->Register(this);
}

Pit8254::~Pit8254() { CancelIrq0(); }

void Pit8254::CancelIrq0() {
  if (timer_ == 0) return;
  wiring_.timers->Cancel(timer_);
  timer_ = 0;
}

void Pit8254::RearmIrq0() {
  if (!wiring_.timers) return;
  CancelIrq0();
  const Channel& ch = channels_[0];
  if (!ch.counting || GateTriggered(ch.mode)) return;
  // Rising edges of OUT (see Output): at terminal count in mode 0, one tick
  // after it in mode 4, at the end of each period in modes 2 and 3.
  ScheduleIrq0(ch.mode == 4 ? ch.reload + 1 : ch.reload);
}

void Pit8254::ScheduleIrq0(uint64_t edge_ticks) {
  edge_ticks_ = edge_ticks;
  ++generation_;
  ArmIrq0Timer();
}

void Pit8254::ArmIrq0Timer() {
  const Channel& ch = channels_[0];
  AsyncEventQueue* events = wiring_.events;
  const uint32_t source = event_source_;
  const uint64_t generation = generation_;
  // Runs on the timer service's thread: it must not touch the device.
  timer_ = wiring_.timers->ScheduleAt(
      ch.load_ns + NanosForTicks(edge_ticks_), [events, source, generation] {
        AsyncEvent e{.source = source, .kind = kExpiryEvent};
        e.data.resize(sizeof(generation));
        std::memcpy(e.data.data(), &generation, sizeof(generation));
        events->Post(std::move(e));
      });
}

void Pit8254::OnAsyncEvent(const AsyncEvent& event) {
  uint64_t generation = 0;
  if (event.kind != kExpiryEvent || event.data.size() != sizeof(generation)) {
    FT_LOG(kWarning) << "pit-8254: ignoring malformed event kind "
                     << event.kind;
    return;
  }
  std::memcpy(&generation, event.data.data(), sizeof(generation));
  if (generation != generation_ || timer_ == 0) return;  // reprogrammed
  // Normally the timer has just run; when the expiry comes from a log
  // instead (replay), the local one must not fire as well.
  CancelIrq0();
  wiring_.irq0->Pulse();
  const Channel& ch = channels_[0];
  if (!Periodic(ch.mode)) return;
  // The next period boundary after now: periods missed while the event
  // waited are coalesced into the edge just raised. The clock only decides
  // when the next timer fires, never what the guest sees at this position.
  const uint64_t n = ch.reload;
  const uint64_t next_now = (TicksSinceLoad(ch) / n + 1) * n;
  ScheduleIrq0(std::max(edge_ticks_ + n, next_now));
}

void Pit8254::Access(const IoAccess& access) {
  const uint8_t in = access.is_write ? access.data[0] : 0;
  uint8_t out = 0xff;
  if (access.address == kControlPortB) {
    Channel& ch2 = channels_[2];
    if (access.is_write) {
      const bool gate = (in & 1) != 0;
      if (gate != ch2.gate) {
        if (gate) {
          // A rising gate restarts modes 1, 2, 3, 5 and resumes 0 and 4.
          if (ch2.mode != 0 && ch2.mode != 4) ch2.paused_ticks = 0;
          ch2.load_ns = clock_->NowNanos();
        } else if (!GateTriggered(ch2.mode)) {
          // Modes 1 and 5 keep counting with the gate low (TicksSinceLoad
          // ignores it), so only the others take a snapshot to pause at.
          ch2.paused_ticks = TicksSinceLoad(ch2);
        }
        ch2.gate = gate;
      }
      port_b_ = in & 0x0f;
    } else {
      const bool refresh = (clock_->NowNanos() / kRefreshPeriodNs) & 1;
      out = static_cast<uint8_t>((port_b_ & 0x0f) | (refresh ? 0x10 : 0) |
                                 (Output(ch2) ? 0x20 : 0));
    }
  } else if (access.offset == 3) {
    if (access.is_write) WriteControl(in);
  } else {
    Channel& ch = channels_[access.offset];
    if (access.is_write) {
      WriteCounter(ch, in);
    } else {
      out = ReadCounter(ch);
    }
  }
  if (!access.is_write) {
    access.data[0] = out;
    for (size_t i = 1; i < access.data.size(); ++i) access.data[i] = 0xff;
  }
}

}  // namespace ft::vmm
