// Fuzz target for the legacy devices' state decoders
// (vmm/snapshot/device_codec.h) on hostile bytes (a resync peer's).
// Input: one byte choosing the device (% 4: PIC, PIT, RTC, serial), then the
// encoded state.
//
// Besides "no crash, no exception, no sanitizer report", it checks:
//  - a refused state leaves the device as it was;
//  - what a device accepts, it saves again, and a fresh device restores that
//    to the same state;
//  - an accepted state survives the guest's reads and, for the PIT, expiry
//    events of its generation and the one before.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "common/check.h"
#include "common/clock.h"
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

namespace ft::vmm {
namespace {

using snapshot::RestoreDevice;
using snapshot::SaveDevice;

using fuzz::IdleTimers;
using fuzz::NullLine;

// A machine's worth of device wiring, at a fixed time.
struct Rig {
  ManualClock clock;
  ManualRealtimeClock wall_clock{1'700'000'000LL * 1'000'000'000};
  IdleTimers timers;
  NullLine line;
  AsyncEventQueue queue;
  Pic8259 pic;
  Pit8254 pit{&clock, {.irq0 = &line, .timers = &timers, .events = &queue}};
  CmosRtc rtc{&wall_clock};
  Serial16550 serial{[](std::span<const uint8_t>) {}};

  Rig() { clock.Advance(int64_t{1} << 40); }
};

void Read(IoDevice& device, uint16_t port, uint64_t offset) {
  testing::PortAccess(device, port, offset, /*is_write=*/false);
}

void Exercise(Pic8259& pic) {
  for (uint16_t port : {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1}) {
    Read(pic, port, port & 1u);
  }
  for (int i = 0; i < 4 && pic.HasPendingInterrupt(); ++i) {
    pic.AcknowledgeInterrupt();
  }
}

void Exercise(Pit8254& pit, uint64_t generation) {
  for (uint16_t port : {0x40, 0x40, 0x41, 0x41, 0x42, 0x42, 0x61}) {
    Read(pit, port, port == 0x61 ? 0 : port - Pit8254::kPort);
  }
  for (uint64_t g : {generation - 1, generation}) {
    AsyncEvent e{.kind = Pit8254::kExpiryEvent};
    e.data.resize(sizeof(g));
    std::memcpy(e.data.data(), &g, sizeof(g));
    pit.OnAsyncEvent(e);
  }
}

void Exercise(CmosRtc& rtc) {
  for (int index = 0; index < 128; ++index) {
    std::array<uint8_t, 2> b{static_cast<uint8_t>(index), 0};
    rtc.Access(IoAccess{.space = IoSpace::kPio,
                        .address = CmosRtc::kPort,
                        .offset = 0,
                        .is_write = true,
                        .data = std::span<uint8_t>(b).first(1)});
    Read(rtc, CmosRtc::kPort + 1, 1);
  }
}

void Exercise(Serial16550& serial) {
  for (uint64_t reg = 0; reg < Serial16550::kPortCount; ++reg) {
    Read(serial, static_cast<uint16_t>(Serial16550::kCom1Port + reg), reg);
  }
}

// Restores `bytes` into `device` and checks the properties above; `fresh`
// (in another rig) takes the round trip.
template <typename Device>
void Check(Device& device, Device& fresh, std::span<const uint8_t> bytes) {
  const typename Device::State before = device.SaveState();
  if (!RestoreDevice(device, bytes).ok()) {
    FT_CHECK(device.SaveState() == before) << "a refusal changed the device";
    return;
  }
  const typename Device::State accepted = device.SaveState();
  const absl::Status again = RestoreDevice(fresh, SaveDevice(device));
  FT_CHECK(again.ok()) << "a saved state is refused: " << again;
  FT_CHECK(fresh.SaveState() == accepted) << "a round trip changed the state";
}

}  // namespace
}  // namespace ft::vmm

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ft::vmm;  // NOLINT: one function
  if (size < 1) return 0;
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  Rig rig;
  Rig fresh;
  switch (static_cast<fuzz::DeviceKind>(data[0] % fuzz::kDeviceKinds)) {
    case fuzz::DeviceKind::kPic:
      Check(rig.pic, fresh.pic, bytes);
      Exercise(rig.pic);
      break;
    case fuzz::DeviceKind::kPit:
      Check(rig.pit, fresh.pit, bytes);
      Exercise(rig.pit, rig.pit.SaveState().irq0_generation);
      break;
    case fuzz::DeviceKind::kRtc:
      Check(rig.rtc, fresh.rtc, bytes);
      Exercise(rig.rtc);
      break;
    case fuzz::DeviceKind::kSerial:
      Check(rig.serial, fresh.serial, bytes);
      Exercise(rig.serial);
      break;
  }
  return 0;
}
