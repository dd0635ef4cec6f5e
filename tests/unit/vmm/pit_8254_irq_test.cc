// Tests for vmm/devices/pit_8254.h's IRQ 0: channel 0 expiries scheduled on
// a fake TimerService, delivered as AsyncEvents, raised on an IRQ line.
// Counter behaviour is in pit_8254_test.cc.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "tests/unit/vmm/pit_test_util.h"
#include "vmm/devices/irq_line.h"
#include "vmm/devices/pit_8254.h"
#include "vmm/events/async_event.h"
#include "vmm/events/timer_service.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::EdgeCounter;
using ::ft::vmm::testing::FakeTimers;
using ::ft::vmm::testing::kMs;
using ::ft::vmm::testing::kPitHz;
using ::ft::vmm::testing::NanosForTicks;

class Pit8254IrqTest : public ::testing::Test {
 protected:
  void Out(uint16_t port, uint8_t value) { testing::PitOut(pit_, port, value); }
  uint8_t In(uint16_t port) { return testing::PitIn(pit_, port); }
  // Programs `ch` for lsb/msb access in `mode` with `count`.
  void Program(int ch, int mode, uint16_t count) {
    Out(0x43, static_cast<uint8_t>((ch << 6) | 0x30 | (mode << 1)));
    Out(static_cast<uint16_t>(0x40 + ch), count & 0xff);
    Out(static_cast<uint16_t>(0x40 + ch), count >> 8);
  }
  // Read-back of channel `ch`'s status alone.
  uint8_t Status(int ch) {
    Out(0x43, static_cast<uint8_t>(0xe0 | (2 << ch)));
    return In(static_cast<uint16_t>(0x40 + ch));
  }
  // Advances the clock to the next deadline, fires it and delivers events.
  void ExpireNext() {
    clock_.Advance(timers_.next_deadline() - clock_.NowNanos());
    timers_.FireNext();
    queue_.DeliverPending();
  }

  ManualClock clock_;
  FakeTimers timers_;
  EdgeCounter irq0_;
  AsyncEventQueue queue_;
  Pit8254 pit_{&clock_,
               {.irq0 = &irq0_, .timers = &timers_, .events = &queue_}};
};

TEST_F(Pit8254IrqTest, Mode0InterruptsOnceAtTerminalCount) {
  clock_.Advance(5 * kMs);
  Program(0, 0, 1000);
  ASSERT_EQ(timers_.armed(), 1u);
  EXPECT_EQ(timers_.next_deadline(), 5 * kMs + NanosForTicks(1000));
  EXPECT_TRUE(pit_.irq0_timer_armed());
  clock_.Advance(timers_.next_deadline() - clock_.NowNanos());
  timers_.FireNext();
  // The expiry is an event: nothing reaches the line until it is delivered.
  EXPECT_EQ(irq0_.rising, 0);
  EXPECT_TRUE(queue_.HasPending());
  EXPECT_EQ(queue_.DeliverPending(), 1u);
  EXPECT_EQ(irq0_.rising, 1);
  EXPECT_EQ(timers_.armed(), 0u);  // one-shot
  EXPECT_FALSE(pit_.irq0_timer_armed());
  EXPECT_EQ(Status(0) & 0x80, 0x80);  // and OUT agrees
}

TEST_F(Pit8254IrqTest, Mode0RearmedByEachNewCount) {
  for (int i = 1; i <= 3; ++i) {
    Program(0, 0, 500);
    ExpireNext();
    EXPECT_EQ(irq0_.rising, i);
    EXPECT_EQ(timers_.armed(), 0u);
  }
  // Writing only the count (no control word) re-arms mode 0 too.
  Out(0x40, 100);
  Out(0x40, 0);
  ASSERT_EQ(timers_.armed(), 1u);
  EXPECT_EQ(timers_.next_deadline(), clock_.NowNanos() + NanosForTicks(100));
}

TEST_F(Pit8254IrqTest, Mode0FirstByteOfANewCountStopsTheOldOne) {
  Program(0, 0, 1000);
  clock_.Advance(timers_.next_deadline());
  Out(0x40, 0x10);  // LSB of the next count
  EXPECT_EQ(timers_.armed(), 0u);
  EXPECT_FALSE(pit_.irq0_timer_armed());
  Out(0x40, 0x00);  // MSB: counting 16 from now
  ASSERT_EQ(timers_.armed(), 1u);
  EXPECT_EQ(timers_.next_deadline(), clock_.NowNanos() + NanosForTicks(16));
}

TEST_F(Pit8254IrqTest, Mode2InterruptsEveryPeriod) {
  Program(0, 2, 100);
  for (uint64_t k = 1; k <= 5; ++k) {
    ASSERT_EQ(timers_.armed(), 1u);
    EXPECT_EQ(timers_.next_deadline(), NanosForTicks(100 * k));
    ExpireNext();
    EXPECT_EQ(irq0_.rising, static_cast<int>(k));
  }
}

TEST_F(Pit8254IrqTest, Mode3InterruptsEveryPeriod) {
  Program(0, 3, 0);  // 65536: the BIOS's 18.2 Hz tick
  EXPECT_EQ(timers_.next_deadline(), NanosForTicks(65536));
  ExpireNext();
  EXPECT_EQ(timers_.next_deadline(), NanosForTicks(2 * 65536));
  EXPECT_EQ(irq0_.rising, 1);
}

TEST_F(Pit8254IrqTest, LateDeliveryCoalescesMissedPeriods) {
  Program(0, 2, 100);
  clock_.Advance(NanosForTicks(550));
  timers_.FireNext();
  queue_.DeliverPending();
  EXPECT_EQ(irq0_.rising, 1);  // one edge for five periods, as IRR would
  EXPECT_EQ(timers_.next_deadline(), NanosForTicks(600));
}

TEST_F(Pit8254IrqTest, Mode4InterruptsOneTickAfterTerminalCount) {
  Program(0, 4, 10);
  EXPECT_EQ(timers_.next_deadline(), NanosForTicks(11));
  ExpireNext();
  EXPECT_EQ(irq0_.rising, 1);
  EXPECT_EQ(timers_.armed(), 0u);
}

TEST_F(Pit8254IrqTest, GateTriggeredModesNeverFireOnChannel0) {
  Program(0, 1, 10);
  Program(0, 5, 10);
  EXPECT_EQ(timers_.armed(), 0u);
}

TEST_F(Pit8254IrqTest, OtherChannelsDoNotInterrupt) {
  Program(1, 2, 10);
  Program(2, 0, 10);
  EXPECT_EQ(timers_.armed(), 0u);
}

TEST_F(Pit8254IrqTest, ReprogrammingCancelsThePendingTimer) {
  Program(0, 0, 1000);
  clock_.Advance(kMs);
  Program(0, 0, 3000);
  ASSERT_EQ(timers_.armed(), 1u);
  EXPECT_EQ(timers_.next_deadline(), kMs + NanosForTicks(3000));
  Out(0x43, 0x30);  // a control word alone stops channel 0
  EXPECT_EQ(timers_.armed(), 0u);
  EXPECT_FALSE(pit_.irq0_timer_armed());
}

TEST_F(Pit8254IrqTest, StaleExpiryAfterReprogrammingIsDropped) {
  Program(0, 0, 1000);
  clock_.Advance(timers_.next_deadline());
  timers_.FireNext();   // posted, not yet delivered...
  Program(0, 0, 5000);  // ...when the guest reprograms
  queue_.DeliverPending();
  EXPECT_EQ(irq0_.rising, 0);
  ASSERT_EQ(timers_.armed(), 1u);  // the new count's timer survives
  ExpireNext();
  EXPECT_EQ(irq0_.rising, 1);
}

TEST_F(Pit8254IrqTest, StaleExpiryAfterStoppingIsDropped) {
  Program(0, 2, 100);
  clock_.Advance(timers_.next_deadline());
  timers_.FireNext();
  Out(0x43, 0x34);  // stop (mode 2, awaiting a count)
  queue_.DeliverPending();
  EXPECT_EQ(irq0_.rising, 0);
  EXPECT_EQ(timers_.armed(), 0u);
}

TEST_F(Pit8254IrqTest, ExpiryEventIsPlainData) {
  // What record/replay logs, and a secondary delivers from its log instead
  // of its own timers: the kind and the 8-byte little-endian generation.
  const std::vector<uint8_t> gen1{1, 0, 0, 0, 0, 0, 0, 0};
  const std::vector<uint8_t> gen2{2, 0, 0, 0, 0, 0, 0, 0};
  Program(0, 0, 10);
  pit_.OnAsyncEvent({.kind = Pit8254::kExpiryEvent, .data = gen1});
  EXPECT_EQ(irq0_.rising, 1);
  EXPECT_EQ(timers_.armed(), 0u);  // the local timer is no longer needed
  Program(0, 0, 10);
  // Malformed or foreign events are ignored, never trusted.
  pit_.OnAsyncEvent({.kind = Pit8254::kExpiryEvent, .data = {2}});
  pit_.OnAsyncEvent({.kind = 99, .data = gen2});
  pit_.OnAsyncEvent({.kind = Pit8254::kExpiryEvent, .data = gen1});
  EXPECT_EQ(irq0_.rising, 1);
  pit_.OnAsyncEvent({.kind = Pit8254::kExpiryEvent, .data = gen2});
  EXPECT_EQ(irq0_.rising, 2);
  pit_.OnAsyncEvent({.kind = Pit8254::kExpiryEvent, .data = gen2});
  EXPECT_EQ(irq0_.rising, 2);  // a one-shot fires once
}

}  // namespace
}  // namespace ft::vmm
