// Tests for vmm/devices/pit_8254.h, driven by a ManualClock.
#include "vmm/devices/pit_8254.h"

#include <array>
#include <cstdint>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/vmm/pit_test_util.h"

namespace ft::vmm {
namespace {

using ::ft::vmm::testing::kMs;
using ::ft::vmm::testing::kPitHz;
using ::ft::vmm::testing::NanosForTicks;
using ::ft::vmm::testing::Ticks;

class Pit8254Test : public ::testing::Test {
 protected:
  uint8_t In(uint16_t port) {
    std::array<uint8_t, 1> b{0x5a};
    pit_.Access(MakeAccess(port, false, b));
    return b[0];
  }
  void Out(uint16_t port, uint8_t value) {
    std::array<uint8_t, 1> b{value};
    pit_.Access(MakeAccess(port, true, b));
  }
  // Latches channel `ch` (word access) and reads the count.
  uint16_t LatchedCount(int ch) {
    Out(0x43, static_cast<uint8_t>(ch << 6));
    return ReadWord(ch);
  }
  uint16_t ReadWord(int ch) {
    const uint16_t port = static_cast<uint16_t>(0x40 + ch);
    uint8_t lsb = In(port);
    uint8_t msb = In(port);
    return static_cast<uint16_t>(lsb | (msb << 8));
  }
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

  ManualClock clock_;
  Pit8254 pit_{&clock_};

 private:
  // The access the bus builds: 0x40-0x43 are one claim, 0x61 another.
  static IoAccess MakeAccess(uint16_t port, bool write, std::span<uint8_t> d) {
    return IoAccess{.space = IoSpace::kPio,
                    .address = port,
                    .offset = port == Pit8254::kControlPortB
                                  ? 0u
                                  : uint64_t{port} - Pit8254::kPort,
                    .is_write = write,
                    .data = d};
  }
};

TEST(PitTicksTest, HelpersAgree) {
  EXPECT_EQ(NanosForTicks(0), 0);
  EXPECT_EQ(NanosForTicks(1), 839);  // one tick is ~838.1 ns
  for (uint64_t t : {1ull, 999ull, 65536ull, 123456789ull}) {
    EXPECT_EQ(Ticks(NanosForTicks(t)), t);
    EXPECT_EQ(Ticks(NanosForTicks(t) - 1), t - 1);
  }
}

TEST_F(Pit8254Test, Mode2ReloadZeroCountsFrom65536) {
  Program(0, 2, 0);
  EXPECT_EQ(LatchedCount(0), 0);  // 65536 reads as 0
  int64_t now = 0;
  for (int64_t step : {int64_t{1}, int64_t{838}, int64_t{1000}, kMs,
                       13 * kMs + 7, 40 * kMs, kMs, 3 * kMs, 200 * kMs}) {
    clock_.Advance(step);
    now += step;
    const uint16_t want =
        static_cast<uint16_t>((65536 - Ticks(now) % 65536) & 0xffff);
    EXPECT_EQ(LatchedCount(0), want) << "at " << now << " ns";
  }
}

TEST_F(Pit8254Test, Mode2WrapsPast55ms) {
  Program(0, 2, 0);
  clock_.Advance(NanosForTicks(65535));
  EXPECT_EQ(LatchedCount(0), 1);
  clock_.Advance(NanosForTicks(65536) - NanosForTicks(65535));
  EXPECT_EQ(LatchedCount(0), 0);  // reloaded: 65536 again
  clock_.Advance(NanosForTicks(65537) - NanosForTicks(65536));
  EXPECT_EQ(LatchedCount(0), 65535);
  clock_.Advance(55 * kMs - NanosForTicks(65537));
  EXPECT_EQ(LatchedCount(0), 65536 - (Ticks(55 * kMs) - 65536));
}

TEST_F(Pit8254Test, Mode2SmallReload) {
  Program(0, 2, 1000);
  clock_.Advance(NanosForTicks(2500));
  EXPECT_EQ(LatchedCount(0), 500);
  clock_.Advance(NanosForTicks(2999) - NanosForTicks(2500));
  EXPECT_EQ(LatchedCount(0), 1);
}

TEST_F(Pit8254Test, LatchFreezesCountWhileClockMoves) {
  Program(0, 2, 0);
  clock_.Advance(NanosForTicks(100));
  Out(0x43, 0x00);  // latch channel 0
  clock_.Advance(NanosForTicks(5000));
  Out(0x43, 0x00);  // a second latch before reading is ignored
  EXPECT_EQ(ReadWord(0), 65436);
  // The latch is consumed: the next read is live.
  EXPECT_EQ(ReadWord(0),
            65536 - Ticks(NanosForTicks(100) + NanosForTicks(5000)));
}

TEST_F(Pit8254Test, UnlatchedWordReadAlternatesBytes) {
  Program(0, 2, 0x1234);
  EXPECT_EQ(In(0x40), 0x34);
  EXPECT_EQ(In(0x40), 0x12);
  EXPECT_EQ(In(0x40), 0x34);
  EXPECT_EQ(In(0x40), 0x12);
}

TEST_F(Pit8254Test, LsbOnlyAccess) {
  Out(0x43, 0x14);  // channel 0, LSB only, mode 2
  Out(0x40, 100);   // one byte loads the count
  EXPECT_EQ(In(0x40), 100);
  EXPECT_EQ(In(0x40), 100);  // every read is the LSB
  clock_.Advance(NanosForTicks(30));
  EXPECT_EQ(In(0x40), 70);
  Out(0x43, 0x00);
  clock_.Advance(NanosForTicks(10));
  EXPECT_EQ(In(0x40), 70);  // latched, and one read releases it
  EXPECT_EQ(In(0x40), 60);
  EXPECT_EQ(Status(0), 0x80 | 0x10 | 0x04);
}

TEST_F(Pit8254Test, MsbOnlyAccess) {
  Out(0x43, 0x24);  // channel 0, MSB only, mode 2
  Out(0x40, 0x02);  // count 0x200
  EXPECT_EQ(In(0x40), 0x02);
  clock_.Advance(NanosForTicks(1));
  EXPECT_EQ(In(0x40), 0x01);  // 0x1ff
  clock_.Advance(NanosForTicks(0x101) - NanosForTicks(1));
  EXPECT_EQ(In(0x40), 0x00);  // 0x0ff
  EXPECT_EQ(Status(0), 0x80 | 0x20 | 0x04);
}

TEST_F(Pit8254Test, Mode0CountsDownAndWraps16Bit) {
  Program(0, 0, 16);
  clock_.Advance(NanosForTicks(5));
  EXPECT_EQ(LatchedCount(0), 11);
  EXPECT_EQ(Status(0) & 0x80, 0);  // OUT low until terminal count
  clock_.Advance(NanosForTicks(16) - NanosForTicks(5));
  EXPECT_EQ(LatchedCount(0), 0);
  EXPECT_EQ(Status(0) & 0x80, 0x80);
  clock_.Advance(NanosForTicks(20) - NanosForTicks(16));
  EXPECT_EQ(LatchedCount(0), 0xfffc);  // no reload in mode 0
  EXPECT_EQ(Status(0) & 0x80, 0x80);   // and OUT stays high
}

TEST_F(Pit8254Test, ReadBackStatusFormat) {
  Out(0x43, 0x34);  // channel 0, lsb/msb, mode 2; no count yet
  EXPECT_EQ(Status(0), 0x80 | 0x40 | 0x30 | 0x04);  // null count set
  Out(0x40, 0x00);
  EXPECT_EQ(Status(0), 0x80 | 0x40 | 0x30 | 0x04);  // still waiting for MSB
  Out(0x40, 0x10);
  EXPECT_EQ(Status(0), 0x80 | 0x30 | 0x04);  // count loaded
  Out(0x43, 0x70);                           // channel 1, lsb/msb, mode 0
  EXPECT_EQ(Status(1), 0x40 | 0x30);         // mode 0 OUT goes low
  Out(0x43, 0xbc);  // channel 2, lsb/msb, mode 6 (alias of 2)
  EXPECT_EQ(Status(2), 0x80 | 0x40 | 0x30 | 0x04);
}

TEST_F(Pit8254Test, ReadBackLatchesCountAndStatus) {
  Program(0, 2, 0x1000);
  Program(2, 2, 0x2000);
  clock_.Advance(NanosForTicks(0x10));
  Out(0x43, 0xc2);  // read-back channel 0: count and status
  clock_.Advance(NanosForTicks(0x500));
  EXPECT_EQ(In(0x40), 0x80 | 0x30 | 0x04);  // status comes first
  EXPECT_EQ(ReadWord(0), 0x0ff0);           // then the frozen count
  EXPECT_EQ(ReadWord(0),
            0x1000 - Ticks(NanosForTicks(0x10) + NanosForTicks(0x500)));
  // Channel 2 was not selected: its reads are live.
  EXPECT_EQ(ReadWord(2),
            0x2000 - Ticks(NanosForTicks(0x10) + NanosForTicks(0x500)));

  // Count-only read-back of channels 0 and 2 (bit 4 set: no status).
  Out(0x43, 0xd0 | 0x02 | 0x08);
  const uint64_t t = Ticks(NanosForTicks(0x10) + NanosForTicks(0x500));
  clock_.Advance(kMs);
  EXPECT_EQ(ReadWord(2), 0x2000 - t);
  EXPECT_EQ(ReadWord(0), 0x1000 - t);
}

TEST_F(Pit8254Test, PortBGatePausesChannel2) {
  Out(0x61, 0x00);  // gate low
  EXPECT_EQ(In(0x61) & 0x0f, 0x00);
  Program(2, 0, 1000);
  clock_.Advance(2 * kMs);
  EXPECT_EQ(LatchedCount(2), 1000);  // not counting with the gate low
  EXPECT_EQ(In(0x61) & 0x20, 0);

  Out(0x61, 0x03);  // gate high, speaker data on
  EXPECT_EQ(In(0x61) & 0x0f, 0x03);
  clock_.Advance(NanosForTicks(600));
  EXPECT_EQ(LatchedCount(2), 400);
  Out(0x61, 0x02);  // gate low: paused
  clock_.Advance(10 * kMs);
  EXPECT_EQ(LatchedCount(2), 400);
  EXPECT_EQ(In(0x61) & 0x20, 0);
  Out(0x61, 0x01);  // resume (mode 0 continues, it does not restart)
  clock_.Advance(NanosForTicks(399));
  EXPECT_EQ(LatchedCount(2), 1);
  EXPECT_EQ(In(0x61) & 0x20, 0);
  clock_.Advance(NanosForTicks(400) - NanosForTicks(399));
  EXPECT_EQ(In(0x61) & 0x20, 0x20);  // OUT2 high at terminal count
}

TEST_F(Pit8254Test, PortBGateDoesNotAffectChannel0) {
  Program(0, 2, 0);
  Out(0x61, 0x00);
  clock_.Advance(NanosForTicks(300));
  EXPECT_EQ(LatchedCount(0), 65536 - 300);
}

TEST_F(Pit8254Test, GateLowDoesNotStopMode1) {
  // In modes 1 and 5 the gate only triggers; lowering it must neither stop
  // nor double-count the channel.
  Program(2, 1, 1000);
  clock_.Advance(NanosForTicks(100));
  Out(0x61, 0x00);
  clock_.Advance(NanosForTicks(200) - NanosForTicks(100));
  EXPECT_EQ(LatchedCount(2), 800);
  Out(0x61, 0x01);  // a rising gate retriggers
  clock_.Advance(NanosForTicks(10));
  EXPECT_EQ(LatchedCount(2), 990);
}

TEST_F(Pit8254Test, PortBRefreshBitToggles) {
  EXPECT_EQ(In(0x61) & 0x10, 0);
  clock_.Advance(15'084);
  EXPECT_EQ(In(0x61) & 0x10, 0);
  clock_.Advance(1);
  EXPECT_EQ(In(0x61) & 0x10, 0x10);
  clock_.Advance(15'085);
  EXPECT_EQ(In(0x61) & 0x10, 0);
  clock_.Advance(15'085);
  EXPECT_EQ(In(0x61) & 0x10, 0x10);
}

TEST_F(Pit8254Test, NoOverflowAfterTenHours) {
  const int64_t ten_hours = int64_t{36'000} * 1'000'000'000;
  // ns * Hz no longer fits in 64 bits: a 64-bit product would be wrong.
  const uint64_t wrapped = uint64_t(ten_hours) * kPitHz / 1'000'000'000;
  ASSERT_NE(wrapped, Ticks(ten_hours));
  ASSERT_EQ(Ticks(ten_hours), 42'954'552'000u);

  Program(0, 2, 0);
  Program(1, 2, 1000);
  clock_.Advance(ten_hours + 12'345);
  const uint64_t t = Ticks(ten_hours + 12'345);
  EXPECT_EQ(LatchedCount(0), (65536 - t % 65536) & 0xffff);
  EXPECT_EQ(LatchedCount(1), 1000 - t % 1000);
}

}  // namespace
}  // namespace ft::vmm
