// Input of the virtio_state fuzz target: the bytes of one saved virtio-mmio
// slot (schema/virtio_devices.capnp, as vmm/snapshot/virtio_codec.h
// writes it), restored into a fresh virtio-blk slot and a fresh virtio-net
// slot over kStateFuzzRam bytes of guest RAM. The seeds
// (make_virtio_state_seeds.cc) are states saved from slots built by
// MakeStateFuzzSlot, so that their ring addresses and buffers fit.
#ifndef FTVM_TESTS_FUZZ_VIRTIO_STATE_FUZZ_INPUT_H_
#define FTVM_TESTS_FUZZ_VIRTIO_STATE_FUZZ_INPUT_H_

#include <cstdint>
#include <memory>
#include <utility>

#include "common/check.h"
#include "vmm/devices/irq_line.h"
#include "vmm/events/async_event.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/blk_backend.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/net_backend.h"
#include "vmm/virtio/virtio_blk.h"
#include "vmm/virtio/virtio_net.h"

namespace ft::vmm::fuzz {

inline constexpr uint64_t kStateFuzzRam = 1 << 20;
inline constexpr uint64_t kStateFuzzDiskBytes = 1 << 20;

class StateFuzzIrq : public IrqLine {
 public:
  void Set(bool level) override { this->level = level; }
  bool level = false;
};

// One slot as a replaying machine builds it: inert back ends.
struct StateFuzzSlot {
  StateFuzzIrq irq;
  AsyncEventQueue events;
  std::unique_ptr<MmioTransport> transport;
};

inline std::unique_ptr<StateFuzzSlot> MakeStateFuzzSlot(
    const GuestMemory& memory, bool net) {
  auto slot = std::make_unique<StateFuzzSlot>();
  std::unique_ptr<VirtioDevice> device;
  if (net) {
    auto d = VirtioNet::Create(
        {.backend = std::make_unique<InertNetBackend>(),
         .mac = MacAddress{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}}});
    FT_CHECK_OK(d.status());
    device = std::move(*d);
  } else {
    auto d = VirtioBlk::Create({.backend = std::make_unique<InertBlockBackend>(
                                    kStateFuzzDiskBytes, false)});
    FT_CHECK_OK(d.status());
    device = std::move(*d);
  }
  auto t = MmioTransport::Create({.memory = &memory,
                                  .irq = &slot->irq,
                                  .events = &slot->events,
                                  .device = std::move(device)});
  FT_CHECK_OK(t.status());
  slot->transport = std::move(*t);
  return slot;
}

}  // namespace ft::vmm::fuzz

#endif  // FTVM_TESTS_FUZZ_VIRTIO_STATE_FUZZ_INPUT_H_
