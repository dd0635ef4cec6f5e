// The PC/AT pair of Intel 8259A programmable interrupt controllers, in user
// space: master at ports 0x20-0x21, slave at 0xa0-0xa1 cascaded on the
// master's IR2, and the PIIX edge/level control registers (ELCR) at
// 0x4d0-0x4d1.
//
// Why in user space: every interrupt the guest receives must be raised by
// the VMM while the vCPU is stopped at an exit, so that the record/replay
// layer sees it. The vCPU loop asks HasPendingInterrupt() before each entry
// and, when the guest can take one, performs the INTA cycle with
// AcknowledgeInterrupt() and injects the vector with KVM_INTERRUPT.
//
// Modelled: ICW1-ICW4 (single or cascade mode, LTIM level mode, auto-EOI,
// rotate on auto-EOI, special fully nested mode), OCW1 (mask), OCW2
// (non-specific, specific and rotating EOI, set priority), OCW3 (read IRR or
// ISR, poll, special mask mode), edge-triggered IRR latching on rising edges
// (level-triggered per ELCR or LTIM), rotating priorities and spurious
// IRQ 7 / IRQ 15. Not modelled: 8080/8085 call mode (ICW1 bits 2 and 5-7,
// ICW2's low bits), buffered mode (ICW4 bits 2-3); they have no meaning on a
// PC.
//
// The cascade input (master IR2) follows the slave's INT output as a level,
// whatever the ELCR says, so a slave interrupt acknowledged in auto-EOI mode
// while another slave request waits is not lost.
//
// Thread ownership: the vCPU thread (through the IoBus, from event delivery
// and from the vCPU loop). IRQ lines are driven only from that thread. Not
// thread-safe.
#ifndef FTVM_VMM_DEVICES_PIC_8259_H_
#define FTVM_VMM_DEVICES_PIC_8259_H_

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "vmm/devices/irq_line.h"
#include "vmm/io/io_bus.h"

namespace ft::vmm {

class Pic8259 : public IoDevice {
 public:
  static constexpr uint16_t kMasterPort = 0x20;
  static constexpr uint16_t kSlavePort = 0xa0;
  static constexpr uint16_t kPortCount = 2;
  static constexpr uint16_t kElcrPort = 0x4d0;
  static constexpr uint16_t kElcrPortCount = 2;
  static constexpr int kCascadeIrq = 2;
  static constexpr int kIrqCount = 16;

  // One chip's guest-visible state. The wiring (which chip is the master,
  // which inputs ELCR may make level-triggered) is fixed and not included.
  struct ChipState {
    uint8_t irr = 0;
    uint8_t imr = 0;
    uint8_t isr = 0;
    uint8_t level = 0;  // input pin levels; bit 2 of the master is cascade
    uint8_t elcr = 0;
    uint8_t priority_add = 0;  // 0..7
    uint8_t irq_base = 0;      // low three bits zero
    uint8_t init_state = 0;    // 0: ready; 1..3: expecting ICW2..ICW4
    bool read_isr = false;
    bool poll = false;
    bool special_mask = false;
    bool auto_eoi = false;
    bool rotate_on_auto_eoi = false;
    bool special_fully_nested = false;
    bool init4 = false;
    bool single = false;
    bool ltim = false;
    friend bool operator==(const ChipState&, const ChipState&) = default;
  };
  // The whole guest-visible state, as plain values (the save/restore
  // contract). The line levels are the chips' `level` bits.
  struct State {
    ChipState master;
    ChipState slave;
    friend bool operator==(const State&, const State&) = default;
  };

  Pic8259();
  Pic8259(const Pic8259&) = delete;
  Pic8259& operator=(const Pic8259&) = delete;

  std::string_view name() const override { return "pic-8259"; }
  void Access(const IoAccess& access) override;

  // The request line for ISA IRQ `irq` (0..15), owned by the PIC. IRQ 2 is
  // the cascade input and has no line: a PC/AT routes ISA IRQ 2 to IRQ 9.
  IrqLine* line(int irq);

  // True when the master drives INT: an unmasked request outranks every
  // interrupt in service.
  bool HasPendingInterrupt() const;
  // The INTA cycle: returns the vector and moves the request from IRR to ISR
  // (or, in auto-EOI mode, only out of IRR). With no request pending, returns
  // the spurious vector (IRQ 7 of the master, or IRQ 15 of the slave if the
  // master saw a cascade request the slave no longer has), as the chip does.
  uint8_t AcknowledgeInterrupt();
  // True when no input could ever raise INT: every master input is masked,
  // or all but the cascade and every slave input. A halted guest in that
  // state can never wake.
  bool AllInputsMasked() const;

  State SaveState() const;
  // Replaces the state. The values come from a peer: every field is checked
  // (ranges, and that the state is one the chips can be in); on error
  // nothing changes.
  absl::Status RestoreState(const State& state);

 private:
  struct Chip {
    uint8_t irr = 0;    // interrupt requests
    uint8_t imr = 0;    // masks
    uint8_t isr = 0;    // in service
    uint8_t level = 0;  // input pin levels, as last driven
    uint8_t elcr = 0;   // 1 = level-triggered (PIIX ELCR)
    uint8_t elcr_mask = 0;
    uint8_t priority_add = 0;  // the IR with the highest priority
    uint8_t irq_base = 0;      // ICW2: vector of IR0
    uint8_t init_state = 0;    // 0: ready; 1..3: expecting ICW2..ICW4
    bool read_isr = false;     // OCW3 RR/RIS: port A reads ISR, not IRR
    bool poll = false;         // OCW3 P: next read is a poll
    bool special_mask = false;
    bool auto_eoi = false;
    bool rotate_on_auto_eoi = false;
    bool special_fully_nested = false;
    bool init4 = false;   // ICW1 IC4: an ICW4 follows
    bool single = false;  // ICW1 SNGL: no slave, no ICW3
    bool ltim = false;    // ICW1 LTIM: every input level-triggered
    bool is_master = false;
  };

  class Line : public IrqLine {
   public:
    void Init(Pic8259* pic, int irq) {
      pic_ = pic;
      irq_ = irq;
    }
    void Set(bool level) override { pic_->SetIrq(irq_, level); }

   private:
    Pic8259* pic_ = nullptr;
    int irq_ = 0;
  };

  static ChipState SaveChip(const Chip& chip);
  // `chip` with the fields of `state`, its wiring kept.
  static Chip WithState(const Chip& chip, const ChipState& state);
  static absl::Status CheckChip(const Chip& chip, const char* which);

  void SetIrq(int irq, bool level);
  static uint8_t LevelMask(const Chip& chip);
  // Highest-priority IR (0..7) the chip would signal, or -1.
  static int PendingIrq(const Chip& chip);
  static int Priority(const Chip& chip, uint8_t mask);
  void Intack(Chip& chip, int irq);
  // Recomputes the cascade input after any change to the slave.
  void UpdateCascade();
  uint8_t Poll(Chip& chip);
  uint8_t Read(Chip& chip, bool port_b);
  void Write(Chip& chip, bool port_b, uint8_t value);
  void WriteCommand(Chip& chip, uint8_t value);
  void WriteData(Chip& chip, uint8_t value);
  void Initialize(Chip& chip, uint8_t icw1);

  Chip master_;
  Chip slave_;
  std::array<Line, kIrqCount> lines_;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_DEVICES_PIC_8259_H_
