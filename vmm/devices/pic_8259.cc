#include "vmm/devices/pic_8259.h"

#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/status.h"

namespace ft::vmm {
namespace {

// PIIX: IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered.
constexpr uint8_t kMasterElcrMask = 0xf8;
constexpr uint8_t kSlaveElcrMask = 0xde;
constexpr uint8_t kCascadeBit = 1 << Pic8259::kCascadeIrq;

}  // namespace

Pic8259::Pic8259() {
  master_.is_master = true;
  master_.elcr_mask = kMasterElcrMask;
  slave_.elcr_mask = kSlaveElcrMask;
  for (int i = 0; i < kIrqCount; ++i) lines_[i].Init(this, i);
}

IrqLine* Pic8259::line(int irq) {
  FT_CHECK(irq >= 0 && irq < kIrqCount) << "no IRQ " << irq;
  FT_CHECK(irq != kCascadeIrq)
      << "IRQ 2 is the cascade input; wire the device to IRQ 9";
  return &lines_[irq];
}

uint8_t Pic8259::LevelMask(const Chip& chip) {
  // The cascade input is a level (see the header), whatever ELCR says.
  return static_cast<uint8_t>((chip.ltim ? 0xff : chip.elcr) |
                              (chip.is_master ? kCascadeBit : 0));
}

void Pic8259::SetIrq(int irq, bool level) {
  Chip& chip = irq < 8 ? master_ : slave_;
  const uint8_t bit = static_cast<uint8_t>(1 << (irq & 7));
  const bool was_high = (chip.level & bit) != 0;
  if (level) {
    chip.level |= bit;
  } else {
    chip.level &= static_cast<uint8_t>(~bit);
  }
  if (LevelMask(chip) & bit) {
    // Level-triggered: the request is the pin, nothing is latched.
    chip.irr = level ? (chip.irr | bit) : (chip.irr & ~bit);
  } else if (level && !was_high) {
    chip.irr |= bit;  // edge-triggered: latch rising edges only
  }
  UpdateCascade();
}

int Pic8259::Priority(const Chip& chip, uint8_t mask) {
  if (mask == 0) return 8;
  int priority = 0;
  while (!(mask & (1 << ((priority + chip.priority_add) & 7)))) ++priority;
  return priority;
}

int Pic8259::PendingIrq(const Chip& chip) {
  const int priority =
      Priority(chip, static_cast<uint8_t>(chip.irr & ~chip.imr));
  if (priority == 8) return -1;
  // What is in service blocks equal and lower priorities. In special mask
  // mode a masked level does not block; in special fully nested mode the
  // master lets a higher slave request through while IR2 is in service.
  uint8_t in_service = chip.isr;
  if (chip.special_mask) in_service &= static_cast<uint8_t>(~chip.imr);
  if (chip.special_fully_nested && chip.is_master) {
    in_service &= static_cast<uint8_t>(~kCascadeBit);
  }
  if (priority >= Priority(chip, in_service)) return -1;
  return (priority + chip.priority_add) & 7;
}

void Pic8259::Intack(Chip& chip, int irq) {
  const uint8_t bit = static_cast<uint8_t>(1 << irq);
  if (chip.auto_eoi) {
    if (chip.rotate_on_auto_eoi) chip.priority_add = (irq + 1) & 7;
  } else {
    chip.isr |= bit;
  }
  // A level-triggered request stays until the device drops the line.
  if (!(LevelMask(chip) & bit)) chip.irr &= static_cast<uint8_t>(~bit);
}

void Pic8259::UpdateCascade() {
  const bool out = !master_.single && PendingIrq(slave_) >= 0;
  if (out) {
    master_.level |= kCascadeBit;
    master_.irr |= kCascadeBit;
  } else {
    master_.level &= static_cast<uint8_t>(~kCascadeBit);
    master_.irr &= static_cast<uint8_t>(~kCascadeBit);
  }
}

bool Pic8259::HasPendingInterrupt() const { return PendingIrq(master_) >= 0; }

uint8_t Pic8259::AcknowledgeInterrupt() {
  const int irq = PendingIrq(master_);
  uint8_t vector;
  if (irq < 0) {
    // The request went away between INT and INTA: the master answers IR7
    // without setting ISR.
    vector = static_cast<uint8_t>(master_.irq_base + 7);
  } else if (irq == kCascadeIrq && !master_.single) {
    const int slave_irq = PendingIrq(slave_);
    if (slave_irq >= 0) {
      Intack(slave_, slave_irq);
      vector = static_cast<uint8_t>(slave_.irq_base + slave_irq);
    } else {
      // Spurious IRQ 15: the master still puts IR2 in service, which is why
      // guests send the master an EOI for it.
      vector = static_cast<uint8_t>(slave_.irq_base + 7);
    }
    Intack(master_, irq);
  } else {
    Intack(master_, irq);
    vector = static_cast<uint8_t>(master_.irq_base + irq);
  }
  UpdateCascade();
  return vector;
}

bool Pic8259::AllInputsMasked() const {
  if (master_.imr == 0xff) return true;
  return (master_.imr | kCascadeBit) == 0xff && slave_.imr == 0xff;
}

uint8_t Pic8259::Poll(Chip& chip) {
  const int irq = PendingIrq(chip);
  if (irq < 0) return 0;
  Intack(chip, irq);
  return static_cast<uint8_t>(0x80 | irq);
}

uint8_t Pic8259::Read(Chip& chip, bool port_b) {
  if (chip.poll) {
    chip.poll = false;
    return Poll(chip);
  }
  if (port_b) return chip.imr;
  return chip.read_isr ? chip.isr : chip.irr;
}

void Pic8259::Initialize(Chip& chip, uint8_t icw1) {
  chip.imr = 0;
  chip.isr = 0;
  chip.priority_add = 0;
  chip.irq_base = 0;
  chip.read_isr = false;
  chip.poll = false;
  chip.special_mask = false;
  chip.auto_eoi = false;
  chip.rotate_on_auto_eoi = false;
  chip.special_fully_nested = false;
  chip.init4 = (icw1 & 0x01) != 0;
  chip.single = (icw1 & 0x02) != 0;
  chip.ltim = (icw1 & 0x08) != 0;
  chip.init_state = 1;
  // The edge sense circuit is reset: a line already high must go low and
  // high again before it is latched. Level-triggered lines are requests
  // as long as they are high.
  chip.irr = chip.level & LevelMask(chip);
}

void Pic8259::WriteCommand(Chip& chip, uint8_t value) {
  if (value & 0x10) {
    Initialize(chip, value);
    return;
  }
  if (value & 0x08) {  // OCW3
    if (value & 0x04) chip.poll = true;
    if (value & 0x02) chip.read_isr = (value & 0x01) != 0;
    if (value & 0x40) chip.special_mask = (value & 0x20) != 0;
    return;
  }
  const int command = value >> 5;  // OCW2: R, SL, EOI
  const int level = value & 7;
  switch (command) {
    case 0:  // rotate in auto-EOI mode: clear
    case 4:  // ... set
      chip.rotate_on_auto_eoi = command == 4;
      break;
    case 1:    // non-specific EOI
    case 5: {  // rotate on non-specific EOI
      const int priority = Priority(chip, chip.isr);
      if (priority == 8) break;
      const int irq = (priority + chip.priority_add) & 7;
      chip.isr &= static_cast<uint8_t>(~(1 << irq));
      if (command == 5) chip.priority_add = (irq + 1) & 7;
      break;
    }
    case 3:  // specific EOI
      chip.isr &= static_cast<uint8_t>(~(1 << level));
      break;
    case 6:  // set priority: `level` becomes the lowest
      chip.priority_add = (level + 1) & 7;
      break;
    case 7:  // rotate on specific EOI
      chip.isr &= static_cast<uint8_t>(~(1 << level));
      chip.priority_add = (level + 1) & 7;
      break;
    default:  // 2: no operation
      break;
  }
}

void Pic8259::WriteData(Chip& chip, uint8_t value) {
  switch (chip.init_state) {
    case 0:  // OCW1
      chip.imr = value;
      break;
    case 1:  // ICW2: the vector base (low three bits are the IR number)
      chip.irq_base = value & 0xf8;
      chip.init_state = chip.single ? (chip.init4 ? 3 : 0) : 2;
      break;
    case 2:  // ICW3: the PC/AT wiring is fixed, whatever the guest says
      chip.init_state = chip.init4 ? 3 : 0;
      break;
    default:  // ICW4
      chip.special_fully_nested = (value & 0x10) != 0;
      chip.auto_eoi = (value & 0x02) != 0;
      chip.init_state = 0;
      break;
  }
}

void Pic8259::Write(Chip& chip, bool port_b, uint8_t value) {
  if (port_b) {
    WriteData(chip, value);
  } else {
    WriteCommand(chip, value);
  }
}

void Pic8259::Access(const IoAccess& access) {
  // A wide access to these 8-bit ports is a sequence of byte accesses.
  for (size_t i = 0; i < access.data.size(); ++i) {
    const uint64_t port = access.address + i;
    uint8_t& byte = access.data[i];
    if (port == kElcrPort || port == kElcrPort + 1) {
      Chip& chip = port == kElcrPort ? master_ : slave_;
      if (!access.is_write) {
        byte = chip.elcr;
        continue;
      }
      chip.elcr = byte & chip.elcr_mask;
      const uint8_t levels = LevelMask(chip);
      chip.irr =
          static_cast<uint8_t>((chip.irr & ~levels) | (chip.level & levels));
    } else if ((port & ~uint64_t{1}) == kMasterPort ||
               (port & ~uint64_t{1}) == kSlavePort) {
      Chip& chip = (port & ~uint64_t{1}) == kMasterPort ? master_ : slave_;
      if (access.is_write) {
        Write(chip, (port & 1) != 0, byte);
      } else {
        byte = Read(chip, (port & 1) != 0);
      }
    } else if (!access.is_write) {
      byte = 0xff;
    }
    UpdateCascade();
  }
}

Pic8259::ChipState Pic8259::SaveChip(const Chip& chip) {
  return ChipState{.irr = chip.irr,
                   .imr = chip.imr,
                   .isr = chip.isr,
                   .level = chip.level,
                   .elcr = chip.elcr,
                   .priority_add = chip.priority_add,
                   .irq_base = chip.irq_base,
                   .init_state = chip.init_state,
                   .read_isr = chip.read_isr,
                   .poll = chip.poll,
                   .special_mask = chip.special_mask,
                   .auto_eoi = chip.auto_eoi,
                   .rotate_on_auto_eoi = chip.rotate_on_auto_eoi,
                   .special_fully_nested = chip.special_fully_nested,
                   .init4 = chip.init4,
                   .single = chip.single,
                   .ltim = chip.ltim};
}

Pic8259::Chip Pic8259::WithState(const Chip& chip, const ChipState& state) {
  Chip out = chip;
  out.irr = state.irr;
  out.imr = state.imr;
  out.isr = state.isr;
  out.level = state.level;
  out.elcr = state.elcr;
  out.priority_add = state.priority_add;
  out.irq_base = state.irq_base;
  out.init_state = state.init_state;
  out.read_isr = state.read_isr;
  out.poll = state.poll;
  out.special_mask = state.special_mask;
  out.auto_eoi = state.auto_eoi;
  out.rotate_on_auto_eoi = state.rotate_on_auto_eoi;
  out.special_fully_nested = state.special_fully_nested;
  out.init4 = state.init4;
  out.single = state.single;
  out.ltim = state.ltim;
  return out;
}

absl::Status Pic8259::CheckChip(const Chip& chip, const char* which) {
  auto bad = [which](const char* field, int value, const char* must) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pic-8259: %s.%s is %d, %s", which, field, value, must));
  };
  if (chip.priority_add > 7) {
    return bad("priority_add", chip.priority_add, "must be 0..7");
  }
  if (chip.irq_base & 7) {
    return bad("irq_base", chip.irq_base, "must be a multiple of 8");
  }
  if (chip.init_state > 3) {
    return bad("init_state", chip.init_state, "must be 0..3");
  }
  // The chip only asks for ICW3 in cascade mode and ICW4 when ICW1 said so.
  if (chip.init_state == 2 && chip.single) {
    return bad("init_state", 2, "but single mode has no ICW3");
  }
  if (chip.init_state == 3 && !chip.init4) {
    return bad("init_state", 3, "but ICW1 asked for no ICW4");
  }
  if (chip.elcr & ~chip.elcr_mask) {
    return bad("elcr", chip.elcr, "sets bits of always edge-triggered IRQs");
  }
  // A level-triggered request is its pin, never latched.
  if ((chip.irr ^ chip.level) & LevelMask(chip)) {
    return bad("irr", chip.irr,
               "differs from the level-triggered input levels");
  }
  return absl::OkStatus();
}

Pic8259::State Pic8259::SaveState() const {
  return State{.master = SaveChip(master_), .slave = SaveChip(slave_)};
}

absl::Status Pic8259::RestoreState(const State& state) {
  const Chip master = WithState(master_, state.master);
  const Chip slave = WithState(slave_, state.slave);
  FT_RETURN_IF_ERROR(CheckChip(master, "master"));
  FT_RETURN_IF_ERROR(CheckChip(slave, "slave"));
  // The cascade input follows the slave's output (UpdateCascade).
  const bool cascade = !master.single && PendingIrq(slave) >= 0;
  if (((master.level & kCascadeBit) != 0) != cascade) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "pic-8259: master.level bit 2 (the cascade input) is %d, but the "
        "slave's output is %d",
        (master.level >> kCascadeIrq) & 1, cascade ? 1 : 0));
  }
  master_ = master;
  slave_ = slave;
  return absl::OkStatus();
}

}  // namespace ft::vmm
