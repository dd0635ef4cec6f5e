// Fuzz target for restoring a saved virtio-mmio slot from a peer's bytes
// (vmm/snapshot/virtio_codec.h). Format: tests/fuzz/virtio_state_fuzz_input.h.
//
// Each input is restored into a fresh virtio-blk slot and a fresh
// virtio-net slot. A refusal must leave the slot as it was; an acceptance
// must take the state exactly (saving it again gives the decoded state's
// encoding), and the restored device must then survive its guest and its
// back end: every in-flight request completed, queues notified, a frame
// received, interrupts acknowledged, with the IRQ line following
// InterruptStatus. Nothing may crash or trip an invariant (FT_CHECK).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <variant>
#include <vector>

#include "common/check.h"
#include "tests/fuzz/virtio_state_fuzz_input.h"
#include "vmm/snapshot/virtio_codec.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {
namespace {

using fuzz::kStateFuzzRam;
namespace mmio = virtio::mmio;

// Created once: an mmap per input would dominate the run time.
const GuestMemory& Memory() {
  static const GuestMemory* memory = [] {
    auto created = GuestMemory::Create({.size = kStateFuzzRam});
    FT_CHECK_OK(created.status());
    return new GuestMemory(std::move(*created));
  }();
  return *memory;
}

void Write(MmioTransport& t, uint64_t offset, uint32_t value) {
  t.Access(IoAccess{
      .space = IoSpace::kMmio,
      .offset = offset,
      .is_write = true,
      .data = std::span(reinterpret_cast<uint8_t*>(&value), sizeof(value))});
}

uint32_t Read(MmioTransport& t, uint64_t offset) {
  uint32_t value = 0;
  t.Access(IoAccess{
      .space = IoSpace::kMmio,
      .offset = offset,
      .data = std::span(reinterpret_cast<uint8_t*>(&value), sizeof(value))});
  return value;
}

void CheckIrq(fuzz::StateFuzzSlot& slot) {
  FT_CHECK(slot.irq.level == (slot.transport->interrupt_status() != 0));
}

// What a guest and a log can do to the restored device next.
void Exercise(fuzz::StateFuzzSlot& slot, const MmioTransport::State& restored) {
  MmioTransport& t = *slot.transport;
  auto deliver = [&](uint32_t kind, std::vector<uint8_t> data) {
    t.OnAsyncEvent(AsyncEvent{.source = 0, .kind = kind, .data = data});
    CheckIrq(slot);
  };
  if (const auto* blk = std::get_if<VirtioBlkState>(&restored.device)) {
    for (const VirtioBlkState::Request& r : blk->in_flight) {
      deliver(kBlockCompletionEvent,
              EncodeBlockCompletion(
                  {.id = r.id,
                   .status = virtio::blk::kStatusOk,
                   .data = std::vector<uint8_t>(r.data_len, 0x5a)}));
    }
    for (const VirtioBlkState::Outstanding& o : blk->outstanding) {
      deliver(kBlockCompletionEvent,
              EncodeBlockCompletion({.id = o.id, .status = 0}));
    }
  }
  if (std::holds_alternative<VirtioNetState>(restored.device)) {
    const std::vector<uint8_t> frame(60, 0xa5);
    deliver(kNetRxFramesEvent, EncodeRxFrames(std::span(&frame, 1)));
  }
  for (uint32_t q = 0; q < restored.queues.size(); ++q) {
    Write(t, mmio::kQueueNotify, q);
    CheckIrq(slot);
  }
  Write(t, mmio::kInterruptAck, Read(t, mmio::kInterruptStatus));
  CheckIrq(slot);
  FT_CHECK(!slot.irq.level);
}

void RunOne(std::span<const uint8_t> bytes) {
  const GuestMemory& memory = Memory();
  absl::StatusOr<MmioTransport::State> decoded =
      snapshot::DecodeVirtioState(bytes);
  for (const bool net : {false, true}) {
    std::unique_ptr<fuzz::StateFuzzSlot> slot =
        fuzz::MakeStateFuzzSlot(memory, net);
    const std::vector<uint8_t> fresh = snapshot::SaveDevice(*slot->transport);
    const absl::Status status =
        snapshot::RestoreDevice(*slot->transport, bytes);
    if (!status.ok()) {
      FT_CHECK(snapshot::SaveDevice(*slot->transport) == fresh)
          << "a refused restore changed the slot: " << status;
      continue;
    }
    FT_CHECK(decoded.ok());
    FT_CHECK(snapshot::SaveDevice(*slot->transport) ==
             snapshot::EncodeVirtioState(*decoded))
        << "the restored slot is not the state it was given";
    CheckIrq(*slot);
    // The seeds' rings start zeroed, as a guest's would; what the device
    // writes now must not leak into the next input.
    std::span<uint8_t> ram = memory.Slice(Gpa(0), kStateFuzzRam).value();
    std::memset(ram.data(), 0, ram.size());
    // A driver whose available rings are where the device left off, so
    // that a notify finds them empty instead of breaking the device.
    for (const MmioTransport::QueueState& q : decoded->queues) {
      if (!q.position) continue;
      const uint16_t idx = q.position->last_avail_idx;
      FT_CHECK_OK(memory.Write(
          Gpa(q.driver + 2),
          std::span(reinterpret_cast<const uint8_t*>(&idx), sizeof(idx))));
    }
    Exercise(*slot, *decoded);
  }
}

}  // namespace
}  // namespace ft::vmm

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ft::vmm::RunOne(std::span(data, size));
  return 0;
}
