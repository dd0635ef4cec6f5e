// Writes the device state fuzz target's seed corpus (format:
// device_state_fuzz_input.h): states saved from devices driven into
// non-trivial states, and a few edited into ones a device must refuse.
//
//   ninja -C build tests/fuzz/make_device_seeds
//   build/tests/fuzz/make_device_seeds tests/fuzz/corpus/device_state
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "schema/devices.capnp.h"
#include "tests/fuzz/device_rig.h"
#include "tests/fuzz/device_state_fuzz_input.h"
#include "tests/unit/vmm/device_state_test_util.h"
#include "vmm/devices/cmos_rtc.h"
#include "vmm/devices/irq_line.h"
#include "vmm/devices/pic_8259.h"
#include "vmm/devices/pit_8254.h"
#include "vmm/devices/serial_16550.h"
#include "vmm/events/async_event.h"
#include "vmm/events/timer_service.h"
#include "vmm/snapshot/device_codec.h"

namespace {

using namespace ft::vmm;  // NOLINT: a small tool
using fuzz::DeviceKind;
using fuzz::InputOf;
using snapshot::SaveDevice;
using testing::Rewrite;
namespace ds = ::ft::schema::devices;

using fuzz::IdleTimers;
using fuzz::NullLine;

void Out(IoDevice& device, uint16_t port, uint64_t offset, uint8_t value) {
  testing::PortAccess(device, port, offset, /*is_write=*/true, value);
}

void Write(const std::string& dir, const std::string& name,
           const std::vector<uint8_t>& input) {
  std::ofstream(dir + "/" + name, std::ios::binary)
      .write(reinterpret_cast<const char*>(input.data()), input.size());
}

void PicSeeds(const std::string& dir) {
  Pic8259 pic;
  for (auto [port, value] : {std::pair{0x20, 0x11},
                             {0x21, 0x20},
                             {0x21, 0x04},
                             {0x21, 0x01},
                             {0xa0, 0x11},
                             {0xa1, 0x28},
                             {0x4d1, 0x04}}) {
    Out(pic, static_cast<uint16_t>(port), port & 1u,
        static_cast<uint8_t>(value));
  }
  pic.line(1)->Pulse();
  pic.AcknowledgeInterrupt();
  pic.line(10)->Set(true);
  const std::vector<uint8_t> state = SaveDevice(pic);
  Write(dir, "pic_mid_init", InputOf(DeviceKind::kPic, state));
  Write(dir, "bad_pic_init_state",
        InputOf(DeviceKind::kPic, Rewrite<ds::Pic8259State>(state, [](auto b) {
                  b.getMaster().setInitState(7);
                })));
}

void PitSeeds(const std::string& dir) {
  ft::ManualClock clock;
  IdleTimers timers;
  NullLine line;
  AsyncEventQueue queue;
  Pit8254 pit(&clock, {.irq0 = &line, .timers = &timers, .events = &queue});
  clock.Advance(1'000'000);
  Out(pit, 0x43, 3, 0x34);  // channel 0, mode 2: armed
  Out(pit, 0x40, 0, 0x00);
  Out(pit, 0x40, 0, 0x10);
  Out(pit, 0x43, 3, 0xb6);  // channel 2, mode 3, half-written
  Out(pit, 0x42, 2, 0x34);
  Out(pit, 0x43, 3, 0x40);  // channel 1 latched
  const std::vector<uint8_t> state = SaveDevice(pit);
  Write(dir, "pit_armed_half_written", InputOf(DeviceKind::kPit, state));
  Write(dir, "bad_pit_mode",
        InputOf(DeviceKind::kPit, Rewrite<ds::Pit8254State>(state, [](auto b) {
                  b.getChannels()[1].setMode(9);
                })));
  Write(dir, "bad_pit_edge",
        InputOf(DeviceKind::kPit, Rewrite<ds::Pit8254State>(state, [](auto b) {
                  b.setIrq0EdgeTicks(~uint64_t{0});
                })));
  Write(dir, "bad_pit_truncated",
        InputOf(DeviceKind::kPit, std::span(state).first(state.size() - 8)));
}

void RtcSeeds(const std::string& dir) {
  ft::ManualRealtimeClock clock(1'709'214'330LL * 1'000'000'000);
  CmosRtc rtc(&clock);
  auto put = [&rtc](uint8_t index, uint8_t value) {
    Out(rtc, 0x70, 0, index);
    Out(rtc, 0x71, 1, value);
  };
  put(0x0e, 0xab);
  put(0x0b, 0x82);  // SET, then a time in 1999
  put(0x09, 0x99);
  put(0x32, 0x19);
  const std::vector<uint8_t> held = SaveDevice(rtc);
  Write(dir, "rtc_set_mode", InputOf(DeviceKind::kRtc, held));
  put(0x0b, 0x02);
  Write(dir, "rtc_offset", InputOf(DeviceKind::kRtc, SaveDevice(rtc)));
  Write(dir, "bad_rtc_ram",
        InputOf(DeviceKind::kRtc, Rewrite<ds::CmosRtcState>(
                                      held, [](auto b) { b.initRam(127); })));
}

void SerialSeeds(const std::string& dir) {
  Serial16550 uart([](std::span<const uint8_t>) {});
  Out(uart, 0x3fb, 3, 0x1b);
  Out(uart, 0x3f9, 1, 0x05);
  const std::vector<uint8_t> rx(20, 0x41);
  uart.Receive(rx);
  const std::vector<uint8_t> state = SaveDevice(uart);
  Write(dir, "serial_pending_rx", InputOf(DeviceKind::kSerial, state));
  const std::vector<uint8_t> too_long(17, 0x42);
  Write(dir, "bad_serial_fifo",
        InputOf(DeviceKind::kSerial,
                Rewrite<ds::Serial16550State>(state, [&too_long](auto b) {
                  b.setRxFifo(
                      capnp::Data::Reader(too_long.data(), too_long.size()));
                })));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  PicSeeds(dir);
  PitSeeds(dir);
  RtcSeeds(dir);
  SerialSeeds(dir);
  return 0;
}
