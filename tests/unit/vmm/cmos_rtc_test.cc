// Tests for vmm/devices/cmos_rtc.h, driven by a fixed wall clock.
#include "vmm/devices/cmos_rtc.h"

#include <array>
#include <cstdint>

#include "common/clock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMs = 1'000'000;
// 2024-02-29 13:45:30 UTC, a Thursday.
constexpr int64_t kLeapDay = 1'709'214'330 * kSecond;

class CmosRtcTest : public ::testing::Test {
 protected:
  uint8_t Get(uint8_t index) {
    Port(0x70, true, index);
    return Port(0x71, false, 0);
  }
  void Put(uint8_t index, uint8_t value) {
    Port(0x70, true, index);
    Port(0x71, true, value);
  }
  uint8_t Port(uint16_t port, bool write, uint8_t value) {
    std::array<uint8_t, 1> b{value};
    rtc_.Access(IoAccess{.space = IoSpace::kPio,
                         .address = port,
                         .offset = port - 0x70u,
                         .is_write = write,
                         .data = b});
    return b[0];
  }

  ManualRealtimeClock clock_{kLeapDay + 100 * kMs};
  CmosRtc rtc_{&clock_};
};

TEST_F(CmosRtcTest, TimeAndDateInBcdByDefault) {
  EXPECT_EQ(Get(0x0b), 0x02);  // 24-hour, BCD
  EXPECT_EQ(Get(0x00), 0x30);
  EXPECT_EQ(Get(0x02), 0x45);
  EXPECT_EQ(Get(0x04), 0x13);
  EXPECT_EQ(Get(0x06), 0x05);  // Thursday (Sunday = 1)
  EXPECT_EQ(Get(0x07), 0x29);
  EXPECT_EQ(Get(0x08), 0x02);
  EXPECT_EQ(Get(0x09), 0x24);
  EXPECT_EQ(Get(0x32), 0x20);
  EXPECT_EQ(Get(0x0d), 0x80);  // battery good
}

TEST_F(CmosRtcTest, BinaryMode) {
  Put(0x0b, 0x06);
  EXPECT_EQ(Get(0x00), 30);
  EXPECT_EQ(Get(0x02), 45);
  EXPECT_EQ(Get(0x04), 13);
  EXPECT_EQ(Get(0x07), 29);
  EXPECT_EQ(Get(0x09), 24);
  EXPECT_EQ(Get(0x32), 20);
}

TEST_F(CmosRtcTest, TwelveHourMode) {
  Put(0x0b, 0x00);                    // 12-hour, BCD
  EXPECT_EQ(Get(0x04), 0x80 | 0x01);  // 1 PM
  clock_.Set(946'684'800 * kSecond);  // 2000-01-01 00:00:00
  EXPECT_EQ(Get(0x04), 0x12);         // midnight is 12 AM
  clock_.Advance(12 * 3600 * kSecond);
  EXPECT_EQ(Get(0x04), 0x80 | 0x12);  // noon is 12 PM
}

TEST_F(CmosRtcTest, TimeAdvancesWithTheClock) {
  clock_.Advance(29 * kSecond + 899 * kMs);  // 13:45:59.999
  EXPECT_EQ(Get(0x00), 0x59);
  clock_.Advance(1 * kMs);
  EXPECT_EQ(Get(0x00), 0x00);
  EXPECT_EQ(Get(0x02), 0x46);
}

TEST_F(CmosRtcTest, CenturyRollover) {
  clock_.Set(946'684'799 * kSecond);  // 1999-12-31 23:59:59, a Friday
  EXPECT_EQ(Get(0x32), 0x19);
  EXPECT_EQ(Get(0x09), 0x99);
  EXPECT_EQ(Get(0x06), 0x06);
  clock_.Advance(kSecond);
  EXPECT_EQ(Get(0x32), 0x20);
  EXPECT_EQ(Get(0x09), 0x00);
  EXPECT_EQ(Get(0x08), 0x01);
  EXPECT_EQ(Get(0x07), 0x01);
  EXPECT_EQ(Get(0x06), 0x07);  // Saturday
}

// A date far past the clock's (the registers reach year 9999) is held at
// the latest the RTC keeps, about 146 years out, and the state stays one a
// fresh RTC restores.
TEST_F(CmosRtcTest, AFarFutureDateIsHeldAtTheLatestKept) {
  Put(0x0b, 0x06);  // binary, 24 hour
  Put(0x32, 30);    // century: year 3000
  const int year = Get(0x32) * 100 + Get(0x09);
  EXPECT_GE(year, 2169);  // 2024 + 146 years, give or take the day
  EXPECT_LE(year, 2171);
  const CmosRtc::State state = rtc_.SaveState();
  EXPECT_LE(state.offset_ns, CmosRtc::kMaxOffsetNanos);
  CmosRtc copy(&clock_);
  ASSERT_TRUE(copy.RestoreState(state).ok());
  EXPECT_EQ(copy.SaveState().offset_ns, state.offset_ns);
  // And the same the other way, far in the past.
  Put(0x32, 5);  // year 500
  const int past = Get(0x32) * 100 + Get(0x09);
  EXPECT_GE(past, 1877);
  EXPECT_LE(past, 1879);
  EXPECT_TRUE(copy.RestoreState(rtc_.SaveState()).ok());
}

TEST_F(CmosRtcTest, UipIsSetJustBeforeEachUpdate) {
  clock_.Set(kLeapDay);
  EXPECT_EQ(Get(0x0a), 0x26);  // just after an update
  clock_.Set(kLeapDay + kSecond - CmosRtc::kUipWindowNanos - 1);
  EXPECT_EQ(Get(0x0a), 0x26);
  clock_.Advance(1);
  EXPECT_EQ(Get(0x0a), 0xa6);
  EXPECT_EQ(Get(0x00), 0x30);  // the update has not happened yet
  clock_.Set(kLeapDay + kSecond);
  EXPECT_EQ(Get(0x0a), 0x26);
  EXPECT_EQ(Get(0x00), 0x31);
}

TEST_F(CmosRtcTest, AGuestPollingUipTerminates) {
  // A guest spinning "while (UIP)" with time moving on sees it clear.
  clock_.Set(kLeapDay + kSecond - kMs);
  int spins = 0;
  while (Get(0x0a) & 0x80) {
    clock_.Advance(100'000);
    ASSERT_LT(++spins, 100);
  }
  EXPECT_EQ(Get(0x00), 0x31);
}

TEST_F(CmosRtcTest, StatusAWritesKeepUipReadOnly) {
  Put(0x0a, 0xa0);
  EXPECT_EQ(Get(0x0a), 0x20);
  Put(0x0a, 0x70);  // divider held in reset: no UIP either
  clock_.Set(kLeapDay + kSecond - kMs);
  EXPECT_EQ(Get(0x0a), 0x70);
}

TEST_F(CmosRtcTest, SetBitFreezesThenCommitsTheWrittenTime) {
  Put(0x0b, 0x82);  // SET, 24-hour, BCD
  clock_.Advance(5 * kSecond);
  EXPECT_EQ(Get(0x00), 0x30);  // frozen
  EXPECT_EQ(Get(0x0a) & 0x80, 0);
  Put(0x00, 0x00);
  Put(0x02, 0x00);
  Put(0x04, 0x08);
  Put(0x07, 0x15);
  Put(0x08, 0x06);
  Put(0x09, 0x31);
  Put(0x32, 0x20);
  clock_.Advance(10 * kSecond);
  EXPECT_EQ(Get(0x04), 0x08);  // still frozen, showing what was written
  Put(0x0b, 0x02);             // SET off: 2031-06-15 08:00:00 from now
  EXPECT_EQ(Get(0x00), 0x00);
  clock_.Advance(61 * kSecond);
  EXPECT_EQ(Get(0x00), 0x01);
  EXPECT_EQ(Get(0x02), 0x01);
  EXPECT_EQ(Get(0x04), 0x08);
  EXPECT_EQ(Get(0x07), 0x15);
  EXPECT_EQ(Get(0x08), 0x06);
  EXPECT_EQ(Get(0x09), 0x31);
  EXPECT_EQ(Get(0x32), 0x20);
  EXPECT_EQ(Get(0x06), 0x01);  // 2031-06-15 is a Sunday
}

TEST_F(CmosRtcTest, WriteWithoutSetTakesEffectAtOnce) {
  Put(0x0b, 0x06);  // binary
  Put(0x02, 7);     // minutes
  EXPECT_EQ(Get(0x02), 7);
  EXPECT_EQ(Get(0x04), 13);
  clock_.Advance(3 * kSecond);
  EXPECT_EQ(Get(0x00), 33);
}

TEST_F(CmosRtcTest, TwelveHourWrite) {
  Put(0x0b, 0x80);         // SET, 12-hour, BCD
  Put(0x04, 0x80 | 0x12);  // 12 PM
  Put(0x0b, 0x06);         // SET off, binary, 24-hour
  EXPECT_EQ(Get(0x04), 12);
  Put(0x0b, 0x00);
  Put(0x04, 0x12);  // 12 AM
  Put(0x0b, 0x02);
  EXPECT_EQ(Get(0x04), 0x00);
}

TEST_F(CmosRtcTest, SettingSetClearsUie) {
  Put(0x0b, 0x12);
  EXPECT_EQ(Get(0x0b), 0x12);
  Put(0x0b, 0x92);
  EXPECT_EQ(Get(0x0b), 0x82);
}

TEST_F(CmosRtcTest, StatusCReportsUpdateEndedOnce) {
  Get(0x0c);  // first read: arms the detector
  EXPECT_EQ(Get(0x0c), 0x00);
  clock_.Advance(kSecond);
  EXPECT_EQ(Get(0x0c), 0x10);
  EXPECT_EQ(Get(0x0c), 0x00);  // reading clears it
  Put(0x0b, 0x12);             // UIE: IRQF follows
  clock_.Advance(kSecond);
  EXPECT_EQ(Get(0x0c), 0x90);
}

TEST_F(CmosRtcTest, NvramAndAlarms) {
  for (int i = 0x0e; i < 0x80; ++i) {
    if (i == 0x32) continue;
    Put(static_cast<uint8_t>(i), static_cast<uint8_t>(i ^ 0xa5));
  }
  Put(0x01, 0x11);
  Put(0x03, 0x22);
  Put(0x05, 0x33);
  for (int i = 0x0e; i < 0x80; ++i) {
    if (i == 0x32) continue;
    EXPECT_EQ(Get(static_cast<uint8_t>(i)), i ^ 0xa5) << i;
  }
  EXPECT_EQ(Get(0x01), 0x11);
  EXPECT_EQ(Get(0x03), 0x22);
  EXPECT_EQ(Get(0x05), 0x33);
  EXPECT_EQ(Get(0x00), 0x30);  // the time is untouched
  Put(0x0c, 0xff);             // read-only
  Put(0x0d, 0x00);
  EXPECT_EQ(Get(0x0d), 0x80);
}

TEST_F(CmosRtcTest, IndexBit7IsTheNmiMask) {
  Port(0x70, true, 0x80 | 0x09);  // NMI off, year
  EXPECT_EQ(Port(0x71, false, 0), 0x24);
  EXPECT_EQ(Port(0x70, false, 0), 0xff);  // the index is write-only
  Port(0x70, true, 0x80 | 0x40);
  Port(0x71, true, 0x77);
  EXPECT_EQ(Get(0x40), 0x77);  // same register without the NMI bit
}

TEST_F(CmosRtcTest, BadDatesAreNormalised) {
  Put(0x0b, 0x86);  // SET, binary
  Put(0x08, 13);    // month 13
  Put(0x07, 31);    // Dec 31 after clamping
  Put(0x0b, 0x06);
  EXPECT_EQ(Get(0x08), 12);
  EXPECT_EQ(Get(0x07), 31);
  Put(0x0b, 0x86);
  Put(0x08, 2);
  Put(0x07, 31);  // February 31st: carried into March
  Put(0x09, 23);
  Put(0x0b, 0x06);
  EXPECT_EQ(Get(0x08), 3);
  EXPECT_EQ(Get(0x07), 3);
}

}  // namespace
}  // namespace ft::vmm
