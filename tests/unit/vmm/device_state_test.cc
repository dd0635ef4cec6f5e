// Tests for the save/restore contract of Pic8259, CmosRtc and Serial16550
// and its encoding (vmm/snapshot/device_codec.h): a device restored from
// another's saved state answers every later access as the saver does, and
// hostile bytes are refused with the device unchanged. The PIT has its own
// file (pit_8254_state_test.cc).
#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "schema/devices.capnp.h"
#include "tests/unit/vmm/device_state_test_util.h"
#include "vmm/devices/cmos_rtc.h"
#include "vmm/devices/pic_8259.h"
#include "vmm/devices/serial_16550.h"
#include "vmm/snapshot/device_codec.h"

namespace ft::vmm {
namespace {

namespace ds = ::ft::schema::devices;

using ::ft::vmm::snapshot::RestoreDevice;
using ::ft::vmm::snapshot::SaveDevice;
using ::ft::vmm::testing::Garbage;
using ::ft::vmm::testing::PortAccess;
using ::ft::vmm::testing::Rewrite;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kMs = 1'000'000;
// 2024-02-29 13:45:30.1 UTC.
constexpr int64_t kLeapDay = 1'709'214'330 * kSecond + 100 * kMs;

// `status` refuses the state and names `device` and `field`.
void ExpectRefusal(const absl::Status& status, std::string_view device,
                   std::string_view field) {
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find(device), std::string_view::npos)
      << status;
  EXPECT_NE(std::string(status.message()).find(field), std::string_view::npos)
      << status;
}

// --- Pic8259 ---

void PicOut(Pic8259& pic, uint16_t port, uint8_t value) {
  PortAccess(pic, port, port & 1u, true, value);
}
uint8_t PicIn(Pic8259& pic, uint16_t port) {
  return PortAccess(pic, port, port & 1u, false, 0);
}

// Master initialised and busy; slave between ICW2 and ICW3.
void DrivePicMidInit(Pic8259& pic) {
  PicOut(pic, 0x20, 0x11);
  PicOut(pic, 0x21, 0x20);
  PicOut(pic, 0x21, 0x04);
  PicOut(pic, 0x21, 0x01);
  PicOut(pic, 0xa0, 0x11);
  PicOut(pic, 0xa1, 0x28);
  PicOut(pic, 0x4d0, 0x20);  // IRQ 5 level-triggered
  PicOut(pic, 0x4d1, 0x04);  // IRQ 10 level-triggered
  pic.line(5)->Set(true);
  pic.line(1)->Pulse();
  EXPECT_EQ(pic.AcknowledgeInterrupt(), 0x21);  // IRQ 1 in service
  pic.line(3)->Pulse();                         // waits behind it
  pic.line(10)->Set(true);
  PicOut(pic, 0x20, 0x0b);      // OCW3: read ISR
  PicOut(pic, 0x20, 0xc0 | 4);  // OCW2: IR4 lowest priority
  PicOut(pic, 0x21, 0x40);      // mask IR6
}

std::vector<int> ContinuePic(Pic8259& pic) {
  std::vector<int> seen;
  auto in = [&](uint16_t port) { seen.push_back(PicIn(pic, port)); };
  auto acknowledge_all = [&] {
    for (int i = 0; i < 8 && pic.HasPendingInterrupt(); ++i) {
      const uint8_t vector = pic.AcknowledgeInterrupt();
      seen.push_back(vector);
      if (vector >= 0x28) PicOut(pic, 0xa0, 0x20);
      PicOut(pic, 0x20, 0x20);
    }
    seen.push_back(pic.HasPendingInterrupt());
  };
  in(0x20);
  in(0x21);
  in(0xa0);
  in(0x4d0);
  in(0x4d1);
  PicOut(pic, 0xa1, 0x02);  // ICW3, ICW4, then OCW1
  PicOut(pic, 0xa1, 0x01);
  PicOut(pic, 0xa1, 0x00);
  in(0xa1);
  acknowledge_all();
  pic.line(5)->Set(false);
  pic.line(10)->Set(false);
  pic.line(7)->Pulse();
  pic.line(12)->Pulse();
  acknowledge_all();
  pic.line(4)->Pulse();
  PicOut(pic, 0x20, 0x0c);  // poll
  in(0x20);
  PicOut(pic, 0x20, 0x0a);
  in(0x20);
  return seen;
}

TEST(Pic8259StateTest, MidInitialisationContinuesIdentically) {
  Pic8259 a;
  DrivePicMidInit(a);
  Pic8259 b;
  ASSERT_TRUE(RestoreDevice(b, SaveDevice(a)).ok());
  EXPECT_EQ(b.SaveState(), a.SaveState());
  EXPECT_EQ(b.SaveState().slave.init_state, 2);

  Pic8259 fresh;
  const std::vector<int> from_a = ContinuePic(a);
  EXPECT_EQ(ContinuePic(b), from_a);
  EXPECT_NE(ContinuePic(fresh), from_a);
  EXPECT_EQ(b.SaveState(), a.SaveState());
}

class Pic8259StateRejectTest : public ::testing::Test {
 protected:
  Pic8259StateRejectTest() {
    DrivePicMidInit(pic_);
    before_ = pic_.SaveState();
    bytes_ = SaveDevice(pic_);
  }
  void ExpectRefused(const absl::Status& status, std::string_view field) {
    ExpectRefusal(status, "pic-8259", field);
    EXPECT_EQ(pic_.SaveState(), before_);
  }
  absl::Status RestoreEdited(
      const std::function<void(ds::Pic8259State::Builder)>& edit) {
    return RestoreDevice(pic_, Rewrite<ds::Pic8259State>(bytes_, edit));
  }

  Pic8259 pic_;
  Pic8259::State before_;
  std::vector<uint8_t> bytes_;
};

TEST_F(Pic8259StateRejectTest, FieldsOutOfRange) {
  const absl::Status status = RestoreEdited(
      [](ds::Pic8259State::Builder b) { b.getMaster().setInitState(7); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  ExpectRefused(status, "master.init_state is 7");
  ExpectRefused(RestoreEdited([](ds::Pic8259State::Builder b) {
                  b.getSlave().setPriorityAdd(8);
                }),
                "slave.priority_add");
  ExpectRefused(RestoreEdited([](ds::Pic8259State::Builder b) {
                  b.getSlave().setIrqBase(0x29);
                }),
                "slave.irq_base");
  ExpectRefused(RestoreEdited([](ds::Pic8259State::Builder b) {
                  b.getMaster().setElcr(0x24);  // IRQ 2 cannot be level
                }),
                "master.elcr");
}

TEST_F(Pic8259StateRejectTest, StatesTheChipsCannotBeIn) {
  // Expecting ICW3 in single mode, or ICW4 when none was announced.
  ExpectRefused(RestoreEdited([](ds::Pic8259State::Builder b) {
                  b.getSlave().setSingle(true);
                }),
                "slave.init_state");
  ExpectRefused(RestoreEdited([](ds::Pic8259State::Builder b) {
                  b.getMaster().setInitState(3);
                  b.getMaster().setInit4(false);
                }),
                "master.init_state");
  // A level-triggered request that is not its pin.
  ExpectRefused(RestoreEdited([](ds::Pic8259State::Builder b) {
                  b.getMaster().setLevel(b.getMaster().getLevel() & ~0x20);
                }),
                "master.irr");
  // A cascade input that disagrees with the slave.
  ExpectRefused(RestoreEdited([](ds::Pic8259State::Builder b) {
                  b.getSlave().setImr(0xff);
                }),
                "cascade");
  ExpectRefused(
      RestoreEdited([](ds::Pic8259State::Builder b) { b.disownSlave(); }),
      "slave is missing");
}

// --- CmosRtc ---

struct RtcRig {
  uint8_t Get(uint8_t index) {
    PortAccess(rtc, 0x70, 0, true, index);
    return PortAccess(rtc, 0x71, 1, false, 0);
  }
  void Put(uint8_t index, uint8_t value) {
    PortAccess(rtc, 0x70, 0, true, index);
    PortAccess(rtc, 0x71, 1, true, value);
  }
  // As a replaying machine's logged clock reads equal the recording's.
  void AlignClock(RtcRig& other) { clock.Set(other.clock.UnixNanos()); }

  ManualRealtimeClock clock{kLeapDay};
  CmosRtc rtc{&clock};
};

std::vector<int> ContinueRtc(RtcRig& r) {
  std::vector<int> seen;
  auto time = [&] {
    for (uint8_t index : {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32}) {
      seen.push_back(r.Get(index));
    }
  };
  seen.push_back(
      PortAccess(r.rtc, 0x71, 1, false, 0));  // the selected register
  time();
  for (uint8_t index : {0x01, 0x0a, 0x0b, 0x0e, 0x7f}) {
    seen.push_back(r.Get(index));
  }
  r.Put(0x0b, r.Get(0x0b) & 0x7f);  // SET off: the held time starts
  time();
  r.clock.Advance(1500 * kMs);
  seen.push_back(r.Get(0x0c));  // update ended since the last read
  seen.push_back(r.Get(0x0c));
  time();
  r.clock.Advance(999 * kMs);
  seen.push_back(r.Get(0x0a));  // UIP depends on the phase
  return seen;
}

TEST(CmosRtcStateTest, SetModeContinuesIdentically) {
  RtcRig a;
  a.Put(0x0b, 0x06);  // binary, 24-hour
  a.Get(0x0c);
  a.Put(0x0b, 0x86);  // SET: the time is held for writing
  a.Put(0x04, 22);
  a.Put(0x00, 70);  // unnormalised while held
  a.Put(0x32, 19);
  a.Put(0x01, 0x11);  // alarm seconds
  a.Put(0x0e, 0xab);
  a.Put(0x7f, 0xcd);
  PortAccess(a.rtc, 0x70, 0, true, 0x80 | 0x0e);  // NMI masked, NVRAM selected
  a.clock.Advance(300 * kMs);

  RtcRig b;
  b.AlignClock(a);
  ASSERT_TRUE(RestoreDevice(b.rtc, SaveDevice(a.rtc)).ok());
  EXPECT_EQ(b.rtc.SaveState(), a.rtc.SaveState());
  RtcRig fresh;
  fresh.AlignClock(a);

  const std::vector<int> from_a = ContinueRtc(a);
  EXPECT_EQ(ContinueRtc(b), from_a);
  EXPECT_NE(ContinueRtc(fresh), from_a);
  EXPECT_EQ(b.rtc.SaveState(), a.rtc.SaveState());
}

TEST(CmosRtcStateTest, OffsetContinuesIdentically) {
  RtcRig a;
  a.Put(0x0b, 0x82);  // SET, BCD: 1999-12-31 23:59:58
  const std::array<std::array<uint8_t, 2>, 7> writes = {{{0x09, 0x99},
                                                         {0x32, 0x19},
                                                         {0x08, 0x12},
                                                         {0x07, 0x31},
                                                         {0x04, 0x23},
                                                         {0x02, 0x59},
                                                         {0x00, 0x58}}};
  for (const auto& [index, value] : writes) a.Put(index, value);
  a.Put(0x0b, 0x02);
  a.clock.Advance(500 * kMs);
  ASSERT_NE(a.rtc.SaveState().offset_ns, 0);

  RtcRig b;
  b.AlignClock(a);
  ASSERT_TRUE(RestoreDevice(b.rtc, SaveDevice(a.rtc)).ok());
  RtcRig fresh;
  fresh.AlignClock(a);

  const std::vector<int> from_a = ContinueRtc(a);
  EXPECT_EQ(ContinueRtc(b), from_a);
  EXPECT_NE(ContinueRtc(fresh), from_a);
}

class CmosRtcStateRejectTest : public ::testing::Test {
 protected:
  CmosRtcStateRejectTest() {
    rig_.Put(0x0b, 0x86);
    rig_.Put(0x0e, 0x42);
    before_ = rig_.rtc.SaveState();
    bytes_ = SaveDevice(rig_.rtc);
  }
  void ExpectRefused(const absl::Status& status, std::string_view field) {
    ExpectRefusal(status, "cmos-rtc", field);
    EXPECT_EQ(rig_.rtc.SaveState(), before_);
  }
  absl::Status RestoreEdited(
      const std::function<void(ds::CmosRtcState::Builder)>& edit) {
    return RestoreDevice(rig_.rtc, Rewrite<ds::CmosRtcState>(bytes_, edit));
  }
  absl::Status RestoreChanged(
      const std::function<void(CmosRtc::State&)>& change) {
    CmosRtc::State state = before_;
    change(state);
    return rig_.rtc.RestoreState(state);
  }

  RtcRig rig_;
  CmosRtc::State before_;
  std::vector<uint8_t> bytes_;
};

TEST_F(CmosRtcStateRejectTest, FieldsOutOfRange) {
  ExpectRefused(RestoreEdited([](ds::CmosRtcState::Builder b) {
                  b.setRam(capnp::Data::Reader(b.getRam().begin(), 127));
                }),
                "ram is 127 bytes");
  ExpectRefused(
      RestoreEdited([](ds::CmosRtcState::Builder b) { b.setIndex(0x80); }),
      "index");
  ExpectRefused(
      RestoreEdited([](ds::CmosRtcState::Builder b) { b.setRegA(0xa6); }),
      "reg_a");
  ExpectRefused(
      RestoreEdited([](ds::CmosRtcState::Builder b) { b.setRegB(0x92); }),
      "reg_b");
  ExpectRefused(
      RestoreEdited([](ds::CmosRtcState::Builder b) { b.setHeldYear(30000); }),
      "held_year");
  ExpectRefused(RestoreEdited([](ds::CmosRtcState::Builder b) {
                  b.setOffsetNs(std::numeric_limits<int64_t>::max());
                }),
                "offset_ns");
  ExpectRefused(RestoreEdited([](ds::CmosRtcState::Builder b) {
                  b.setUfSecond(std::numeric_limits<int64_t>::min());
                }),
                "uf_second");
  ExpectRefused(RestoreChanged([](CmosRtc::State& s) { s.held_month = 256; }),
                "held_month");
  ExpectRefused(RestoreChanged([](CmosRtc::State& s) { s.held_second = -1; }),
                "held_second");
}

// --- Serial16550 ---

constexpr uint64_t kData = 0, kIer = 1, kIir = 2, kFcr = 2, kLcr = 3, kMcr = 4,
                   kLsr = 5, kMsr = 6, kScr = 7;

struct SerialRig {
  uint8_t In(uint64_t reg) {
    return PortAccess(uart, static_cast<uint16_t>(Serial16550::kCom1Port + reg),
                      reg, false, 0x5a);
  }
  void Out(uint64_t reg, uint8_t value) {
    PortAccess(uart, static_cast<uint16_t>(Serial16550::kCom1Port + reg), reg,
               true, value);
  }

  std::vector<uint8_t> sent;
  Serial16550 uart{[this](std::span<const uint8_t> b) {
    sent.insert(sent.end(), b.begin(), b.end());
  }};
};

// Pending rx bytes past an overrun, a custom divisor and line settings.
void DriveSerialWithPendingRx(SerialRig& r) {
  r.Out(kLcr, 0x83);
  r.Out(kData, 0x01);
  r.Out(kIer, 0x00);
  r.Out(kLcr, 0x1b);
  r.Out(kIer, 0x05);
  r.Out(kFcr, 0xc1);
  r.Out(kMcr, 0x0b);
  r.Out(kScr, 0x5a);
  std::vector<uint8_t> bytes(20);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(0x30 + i);
  r.uart.Receive(bytes);  // 16 kept, overrun
  for (int i = 0; i < 3; ++i) r.In(kData);
}

std::vector<int> ContinueSerial(SerialRig& r) {
  std::vector<int> seen;
  for (uint64_t reg : {kLsr, kLsr, kIir, kIer, kLcr, kMcr, kScr}) {
    seen.push_back(r.In(reg));
  }
  for (int i = 0; i < 20 && (r.In(kLsr) & 0x01); ++i)
    seen.push_back(r.In(kData));
  seen.push_back(r.In(kIir));
  r.Out(kLcr, 0x9b);
  seen.push_back(r.In(kData));  // divisor latch
  seen.push_back(r.In(kIer));
  r.Out(kLcr, 0x1b);
  r.Out(kMcr, 0x1f);  // loopback
  r.Out(kData, 0x42);
  seen.push_back(r.In(kMsr));
  seen.push_back(r.In(kData));
  r.Out(kMcr, 0x0b);
  r.Out(kData, 'x');
  seen.insert(seen.end(), r.sent.begin(), r.sent.end());
  return seen;
}

TEST(Serial16550StateTest, PendingRxContinuesIdentically) {
  SerialRig a;
  DriveSerialWithPendingRx(a);
  EXPECT_EQ(a.uart.SaveState().rx_fifo.size(), 13u);
  SerialRig b;
  ASSERT_TRUE(RestoreDevice(b.uart, SaveDevice(a.uart)).ok());
  EXPECT_EQ(b.uart.SaveState(), a.uart.SaveState());

  SerialRig fresh;
  const std::vector<int> from_a = ContinueSerial(a);
  EXPECT_EQ(ContinueSerial(b), from_a);
  EXPECT_NE(ContinueSerial(fresh), from_a);
}

class Serial16550StateRejectTest : public ::testing::Test {
 protected:
  Serial16550StateRejectTest() {
    DriveSerialWithPendingRx(rig_);
    before_ = rig_.uart.SaveState();
    bytes_ = SaveDevice(rig_.uart);
  }
  void ExpectRefused(const absl::Status& status, std::string_view field) {
    ExpectRefusal(status, "serial-16550", field);
    EXPECT_EQ(rig_.uart.SaveState(), before_);
  }
  absl::Status RestoreEdited(
      const std::function<void(ds::Serial16550State::Builder)>& edit) {
    return RestoreDevice(rig_.uart,
                         Rewrite<ds::Serial16550State>(bytes_, edit));
  }

  SerialRig rig_;
  Serial16550::State before_;
  std::vector<uint8_t> bytes_;
};

TEST_F(Serial16550StateRejectTest, FieldsOutOfRange) {
  const std::vector<uint8_t> too_long(Serial16550::kRxFifoSize + 1, 0x41);
  const absl::Status status =
      RestoreEdited([&too_long](ds::Serial16550State::Builder b) {
        b.setRxFifo(capnp::Data::Reader(too_long.data(), too_long.size()));
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  ExpectRefused(status, "rx_fifo holds 17 bytes");
  ExpectRefused(
      RestoreEdited([](ds::Serial16550State::Builder b) { b.setIer(0x10); }),
      "ier");
  ExpectRefused(
      RestoreEdited([](ds::Serial16550State::Builder b) { b.setMcr(0x20); }),
      "mcr");
}

// --- Bytes that are not a state, for every device ---

template <typename Device>
void ExpectGarbageRefused(Device& device, std::string_view name) {
  const typename Device::State before = device.SaveState();
  const std::vector<uint8_t> valid = SaveDevice(device);
  for (const std::vector<uint8_t>& input : Garbage(valid)) {
    SCOPED_TRACE(::testing::Message() << input.size() << " bytes");
    const absl::Status status = RestoreDevice(device, input);
    EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
    EXPECT_NE(std::string(status.message()).find(name), std::string_view::npos)
        << status;
    EXPECT_EQ(device.SaveState(), before);
  }
  // Any alignment of the valid bytes is accepted.
  std::vector<uint8_t> shifted(valid.size() + 1);
  std::copy(valid.begin(), valid.end(), shifted.begin() + 1);
  EXPECT_TRUE(
      RestoreDevice(device, std::span<const uint8_t>(shifted).subspan(1)).ok());
  EXPECT_EQ(device.SaveState(), before);
}

TEST(DeviceStateGarbageTest, PicRefusesGarbage) {
  Pic8259 pic;
  DrivePicMidInit(pic);
  ExpectGarbageRefused(pic, "pic-8259 state");
}

TEST(DeviceStateGarbageTest, RtcRefusesGarbage) {
  RtcRig r;
  r.Put(0x0e, 0x42);
  ExpectGarbageRefused(r.rtc, "cmos-rtc state");
}

TEST(DeviceStateGarbageTest, SerialRefusesGarbage) {
  SerialRig r;
  DriveSerialWithPendingRx(r);
  ExpectGarbageRefused(r.uart, "serial-16550 state");
}

}  // namespace
}  // namespace ft::vmm
