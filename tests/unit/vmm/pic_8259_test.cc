// Tests for vmm/devices/pic_8259.h: the guest's view through ports and the
// vCPU loop's view through HasPendingInterrupt/AcknowledgeInterrupt.
#include "vmm/devices/pic_8259.h"

#include <array>
#include <cstdint>

#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

constexpr uint16_t kMasterCmd = 0x20;
constexpr uint16_t kMasterData = 0x21;
constexpr uint16_t kSlaveCmd = 0xa0;
constexpr uint16_t kSlaveData = 0xa1;
constexpr uint8_t kReadIrr = 0x0a;  // OCW3
constexpr uint8_t kReadIsr = 0x0b;
constexpr uint8_t kPoll = 0x0c;
constexpr uint8_t kEoi = 0x20;  // OCW2 non-specific EOI

class Pic8259Test : public ::testing::Test {
 protected:
  void Out(uint16_t port, uint8_t value) {
    std::array<uint8_t, 1> b{value};
    pic_.Access(IoAccess{.space = IoSpace::kPio,
                         .address = port,
                         .offset = port & 1u,
                         .is_write = true,
                         .data = b});
  }
  uint8_t In(uint16_t port) {
    std::array<uint8_t, 1> b{0x5a};
    pic_.Access(IoAccess{.space = IoSpace::kPio,
                         .address = port,
                         .offset = port & 1u,
                         .is_write = false,
                         .data = b});
    return b[0];
  }
  // The PC BIOS sequence (Linux's init_8259A does the same), with ICW4's
  // auto-EOI bit as asked.
  void InitPc(bool auto_eoi = false) {
    const uint8_t icw4 = auto_eoi ? 0x03 : 0x01;
    Out(kMasterCmd, 0x11);   // ICW1: edge, cascade, ICW4 follows
    Out(kMasterData, 0x20);  // ICW2: vectors 0x20-0x27
    Out(kMasterData, 0x04);  // ICW3: slave on IR2
    Out(kMasterData, icw4);
    Out(kSlaveCmd, 0x11);
    Out(kSlaveData, 0x28);  // vectors 0x28-0x2f
    Out(kSlaveData, 0x02);  // cascade identity 2
    Out(kSlaveData, icw4);
  }
  uint8_t Irr(uint16_t cmd) {
    Out(cmd, kReadIrr);
    return In(cmd);
  }
  uint8_t Isr(uint16_t cmd) {
    Out(cmd, kReadIsr);
    return In(cmd);
  }

  Pic8259 pic_;
};

TEST_F(Pic8259Test, InitSequenceSetsVectorsAndClearsMask) {
  Out(kMasterData, 0xff);  // masked before init...
  InitPc();
  EXPECT_EQ(In(kMasterData), 0x00);  // ...ICW1 clears IMR
  Out(kMasterData, 0xfb);
  Out(kSlaveData, 0xff);
  EXPECT_EQ(In(kMasterData), 0xfb);
  EXPECT_EQ(In(kSlaveData), 0xff);
  Out(kMasterData, 0x00);
  pic_.line(1)->Pulse();
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x21);
}

TEST_F(Pic8259Test, SingleModeSkipsIcw3) {
  Out(kMasterCmd, 0x13);   // single, ICW4 follows
  Out(kMasterData, 0x40);  // ICW2
  Out(kMasterData, 0x01);  // ICW4 (no ICW3 expected)
  Out(kMasterData, 0xf0);  // OCW1
  EXPECT_EQ(In(kMasterData), 0xf0);
  pic_.line(3)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x43);
}

TEST_F(Pic8259Test, EdgeTriggeredLatchesRisingEdgesOnly) {
  InitPc();
  pic_.line(3)->Set(true);
  EXPECT_EQ(Irr(kMasterCmd), 0x08);
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x23);
  EXPECT_EQ(Irr(kMasterCmd), 0x00);  // INTA cleared the request
  Out(kMasterCmd, kEoi);
  pic_.line(3)->Set(true);  // still high: no new edge
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  pic_.line(3)->Set(false);
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  pic_.line(3)->Set(true);
  EXPECT_TRUE(pic_.HasPendingInterrupt());
  pic_.line(3)->Set(false);  // an edge stays latched after the line drops
  EXPECT_TRUE(pic_.HasPendingInterrupt());
}

TEST_F(Pic8259Test, Icw1ResetsTheEdgeDetector) {
  pic_.line(4)->Set(true);
  InitPc();
  EXPECT_EQ(Irr(kMasterCmd), 0x00);  // high through ICW1: not latched
  pic_.line(4)->Pulse();             // already high: no rising edge, then low
  EXPECT_EQ(Irr(kMasterCmd), 0x00);
  pic_.line(4)->Set(false);
  pic_.line(4)->Set(true);
  EXPECT_EQ(Irr(kMasterCmd), 0x10);
}

TEST_F(Pic8259Test, MaskHoldsRequestInIrr) {
  InitPc();
  Out(kMasterData, 0x01);  // mask IRQ 0
  pic_.line(0)->Pulse();
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  EXPECT_EQ(Irr(kMasterCmd), 0x01);
  Out(kMasterData, 0x00);
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x20);
}

TEST_F(Pic8259Test, FixedPrioritiesAndNesting) {
  InitPc();
  pic_.line(5)->Pulse();
  pic_.line(3)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x23);  // lower IR wins
  EXPECT_EQ(Isr(kMasterCmd), 0x08);
  // IRQ 5 waits behind IRQ 3 in service; IRQ 1 outranks it.
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  pic_.line(1)->Pulse();
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x21);
  EXPECT_EQ(Isr(kMasterCmd), 0x0a);
  Out(kMasterCmd, kEoi);  // ends IRQ 1, the highest in service
  EXPECT_EQ(Isr(kMasterCmd), 0x08);
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  Out(kMasterCmd, kEoi);
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x25);
}

TEST_F(Pic8259Test, SpecificEoi) {
  InitPc();
  pic_.line(6)->Pulse();
  pic_.AcknowledgeInterrupt();
  pic_.line(1)->Pulse();
  pic_.AcknowledgeInterrupt();
  EXPECT_EQ(Isr(kMasterCmd), 0x42);
  Out(kMasterCmd, 0x60 | 6);  // specific EOI for IRQ 6
  EXPECT_EQ(Isr(kMasterCmd), 0x02);
}

TEST_F(Pic8259Test, WithoutEoiTheSameIrqIsBlocked) {
  InitPc();
  pic_.line(0)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x20);
  pic_.line(0)->Pulse();
  EXPECT_FALSE(pic_.HasPendingInterrupt());  // in service
  EXPECT_EQ(Irr(kMasterCmd), 0x01);          // but latched
  Out(kMasterCmd, kEoi);
  EXPECT_TRUE(pic_.HasPendingInterrupt());
}

TEST_F(Pic8259Test, AutoEoiNeedsNoEoi) {
  InitPc(/*auto_eoi=*/true);
  pic_.line(0)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x20);
  EXPECT_EQ(Isr(kMasterCmd), 0x00);
  pic_.line(0)->Pulse();
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x20);
  // Two requests at once come out one after the other, by priority.
  pic_.line(4)->Pulse();
  pic_.line(0)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x20);
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x24);
  EXPECT_FALSE(pic_.HasPendingInterrupt());
}

TEST_F(Pic8259Test, CascadeThroughTheSlave) {
  InitPc();
  pic_.line(10)->Pulse();
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(Irr(kSlaveCmd), 0x04);
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x2a);
  EXPECT_EQ(Isr(kSlaveCmd), 0x04);
  EXPECT_EQ(Isr(kMasterCmd), 0x04);  // IR2 in service on the master
  // A slave request waits until both chips have their EOI.
  pic_.line(9)->Pulse();
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  Out(kSlaveCmd, kEoi);
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  Out(kMasterCmd, kEoi);
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x29);
}

TEST_F(Pic8259Test, CascadeInAutoEoiLosesNothing) {
  InitPc(/*auto_eoi=*/true);
  pic_.line(12)->Pulse();
  pic_.line(14)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x2c);
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x2e);
  EXPECT_FALSE(pic_.HasPendingInterrupt());
}

TEST_F(Pic8259Test, MaskingTheCascadeMasksTheSlave) {
  InitPc();
  Out(kMasterData, 0x04);
  pic_.line(8)->Pulse();
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  Out(kMasterData, 0x00);
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x28);
}

TEST_F(Pic8259Test, MasterIrqOutranksSlaveIrqs) {
  InitPc();
  pic_.line(8)->Pulse();
  pic_.line(3)->Pulse();
  pic_.line(1)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x21);  // IR1 > IR2 (cascade)
  Out(kMasterCmd, kEoi);
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x28);  // IR2 > IR3
  Out(kSlaveCmd, kEoi);
  Out(kMasterCmd, kEoi);
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x23);
}

TEST_F(Pic8259Test, SpuriousIrq7WhenNothingIsPending) {
  InitPc();
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x27);
  EXPECT_EQ(Isr(kMasterCmd), 0x00);  // a spurious IRQ 7 is not in service
}

TEST_F(Pic8259Test, SpuriousWhenALevelRequestGoesAway) {
  InitPc();
  Out(0x4d0, 0x20);  // IRQ 5 level-triggered
  pic_.line(5)->Set(true);
  EXPECT_TRUE(pic_.HasPendingInterrupt());
  pic_.line(5)->Set(false);  // the device dropped it before INTA
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x27);
}

TEST_F(Pic8259Test, ElcrLevelTriggeredStaysPendingWhileHigh) {
  Out(0x4d0, 0xff);
  Out(0x4d1, 0xff);
  EXPECT_EQ(In(0x4d0), 0xf8);  // IRQ 0-2 are always edge
  EXPECT_EQ(In(0x4d1), 0xde);  // and so are 8 and 13
  InitPc();
  EXPECT_EQ(In(0x4d0), 0xf8);  // ICW1 leaves ELCR alone
  pic_.line(11)->Set(true);
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x2b);
  Out(kSlaveCmd, kEoi);
  Out(kMasterCmd, kEoi);
  ASSERT_TRUE(pic_.HasPendingInterrupt());  // still high: again
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x2b);
  pic_.line(11)->Set(false);
  Out(kSlaveCmd, kEoi);
  Out(kMasterCmd, kEoi);
  EXPECT_FALSE(pic_.HasPendingInterrupt());
}

TEST_F(Pic8259Test, LtimMakesEveryInputLevelTriggered) {
  Out(kMasterCmd, 0x1b);  // ICW1: LTIM, single, ICW4
  Out(kMasterData, 0x20);
  Out(kMasterData, 0x03);  // auto-EOI
  pic_.line(0)->Set(true);
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x20);
  EXPECT_TRUE(pic_.HasPendingInterrupt());
  pic_.line(0)->Set(false);
  EXPECT_FALSE(pic_.HasPendingInterrupt());
}

TEST_F(Pic8259Test, PollAcknowledges) {
  InitPc();
  Out(kMasterCmd, kPoll);
  EXPECT_EQ(In(kMasterCmd), 0x00);  // nothing pending
  pic_.line(6)->Pulse();
  Out(kMasterCmd, kPoll);
  EXPECT_EQ(In(kMasterData), 0x86);  // either port answers a poll
  EXPECT_EQ(Isr(kMasterCmd), 0x40);
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  EXPECT_EQ(In(kMasterData), 0x00);  // back to reading IMR
}

TEST_F(Pic8259Test, SetPriorityRotates) {
  InitPc();
  Out(kMasterCmd, 0xc0 | 3);  // IRQ 3 lowest, so IRQ 4 highest
  pic_.line(1)->Pulse();
  pic_.line(4)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x24);
  Out(kMasterCmd, kEoi);
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x21);
}

TEST_F(Pic8259Test, RotateOnNonSpecificEoi) {
  InitPc();
  pic_.line(1)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x21);
  Out(kMasterCmd, 0xa0);  // rotate on non-specific EOI: IRQ 1 now lowest
  pic_.line(1)->Pulse();
  pic_.line(7)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x27);
}

TEST_F(Pic8259Test, RotateInAutoEoiMode) {
  InitPc(/*auto_eoi=*/true);
  Out(kMasterCmd, 0x80);  // rotate in auto-EOI mode: set
  pic_.line(0)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x20);
  pic_.line(0)->Pulse();
  pic_.line(5)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x25);  // IRQ 0 rotated to lowest
}

TEST_F(Pic8259Test, SpecialMaskModeLetsLowerLevelsIn) {
  InitPc();
  pic_.line(1)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x21);
  pic_.line(5)->Pulse();
  EXPECT_FALSE(pic_.HasPendingInterrupt());
  Out(kMasterData, 0x02);  // the handler masks its own level...
  Out(kMasterCmd, 0x68);   // ...and sets special mask mode
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x25);
  Out(kMasterCmd, 0x48);  // special mask mode off
  Out(kMasterCmd, 0x60 | 5);
  EXPECT_EQ(Isr(kMasterCmd), 0x02);
}

TEST_F(Pic8259Test, SpecialFullyNestedLetsHigherSlaveIrqsThrough) {
  InitPc();
  Out(kMasterCmd, 0x11);
  Out(kMasterData, 0x20);
  Out(kMasterData, 0x04);
  Out(kMasterData, 0x11);  // ICW4: special fully nested
  pic_.line(12)->Pulse();
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x2c);
  pic_.line(9)->Pulse();  // higher than 12 on the slave
  ASSERT_TRUE(pic_.HasPendingInterrupt());
  EXPECT_EQ(pic_.AcknowledgeInterrupt(), 0x29);
  pic_.line(14)->Pulse();  // lower: waits
  EXPECT_FALSE(pic_.HasPendingInterrupt());
}

TEST_F(Pic8259Test, AllInputsMasked) {
  InitPc();
  EXPECT_FALSE(pic_.AllInputsMasked());
  Out(kMasterData, 0xff);
  EXPECT_TRUE(pic_.AllInputsMasked());
  Out(kMasterData, 0xfb);  // only the cascade open...
  Out(kSlaveData, 0xff);   // ...to a fully masked slave
  EXPECT_TRUE(pic_.AllInputsMasked());
  Out(kSlaveData, 0xfe);
  EXPECT_FALSE(pic_.AllInputsMasked());
}

TEST_F(Pic8259Test, WideAccessIsTwoByteAccesses) {
  InitPc();
  Out(kMasterData, 0x5a);
  std::array<uint8_t, 2> b{0, 0};
  Out(kMasterCmd, kReadIsr);
  pic_.Access(IoAccess{.space = IoSpace::kPio,
                       .address = kMasterCmd,
                       .offset = 0,
                       .is_write = false,
                       .data = b});
  EXPECT_EQ(b[0], 0x00);  // ISR
  EXPECT_EQ(b[1], 0x5a);  // IMR
}

TEST(Pic8259DeathTest, Irq2IsTheCascade) {
  Pic8259 pic;
  EXPECT_DEATH(pic.line(2), "cascade");
  EXPECT_DEATH(pic.line(16), "no IRQ 16");
}

}  // namespace
}  // namespace ft::vmm
