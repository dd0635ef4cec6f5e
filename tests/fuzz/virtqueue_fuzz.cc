// Fuzz target for split virtqueues: guest memory (descriptor tables, rings,
// buffers, indirect tables) and the queue's placement are hostile input.
// Format: tests/fuzz/virtqueue_fuzz_input.h.
//
// Two runs per input:
//  1. ParseDescriptorChain directly at the given head; a chain it accepts
//     must lie wholly inside guest RAM and respect the limits.
//  2. A virtio-blk device behind the virtio-mmio transport, set up the way
//     a driver would, then poked with the input's register writes and
//     notified; completions from an in-memory disk are delivered as the
//     vCPU thread would. Nothing may crash; the disk back end checks every
//     request is inside the disk; the IRQ line must follow InterruptStatus.
// Guest RAM is the only host memory the input can name; ASan/UBSan (in the
// fuzz build) catch any access elsewhere.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "common/check.h"
#include "tests/fuzz/virtqueue_fuzz_input.h"
#include "vmm/events/async_event.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/blk_backend.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/virtio_blk.h"
#include "vmm/virtio/virtio_spec.h"
#include "vmm/virtio/virtqueue.h"

namespace ft::vmm {
namespace {

using fuzz::kFuzzRam;

constexpr uint64_t kDiskBytes = 64 * 1024;

// Created once: an mmap per input would dominate the run time.
const GuestMemory& Memory() {
  static const GuestMemory* memory = [] {
    auto created = GuestMemory::Create({.size = kFuzzRam});
    FT_CHECK_OK(created.status());
    return new GuestMemory(std::move(*created));
  }();
  return *memory;
}

// An in-memory disk that completes each request as soon as it is submitted
// (the completion still travels through the event queue).
class MemoryBackend : public BlockBackend {
 public:
  explicit MemoryBackend(bool read_only)
      : disk_(kDiskBytes), read_only_(read_only) {}
  uint64_t size_bytes() const override { return disk_.size(); }
  bool read_only() const override { return read_only_; }
  void Connect(AsyncEventPoster poster) override { poster_ = poster; }
  void Submit(BlockRequest request) override {
    BlockCompletion done{.id = request.id, .status = virtio::blk::kStatusOk};
    const uint64_t len = request.op == BlockRequest::Op::kRead
                             ? request.length
                             : request.data.size();
    // The device checked the range; a request outside the disk is a bug.
    FT_CHECK(request.offset <= disk_.size() &&
             len <= disk_.size() - request.offset)
        << "request [" << request.offset << ", +" << len << ") beyond disk";
    if (request.op == BlockRequest::Op::kRead) {
      done.data.assign(disk_.begin() + request.offset,
                       disk_.begin() + request.offset + len);
    } else if (request.op == BlockRequest::Op::kWrite) {
      FT_CHECK(!read_only_);
      std::copy(request.data.begin(), request.data.end(),
                disk_.begin() + request.offset);
    }
    poster_.Post(kBlockCompletionEvent, EncodeBlockCompletion(done));
  }

 private:
  std::vector<uint8_t> disk_;
  bool read_only_;
  AsyncEventPoster poster_;
};

class LevelIrq : public IrqLine {
 public:
  void Set(bool level) override { this->level = level; }
  bool level = false;
};

void CheckChain(const DescriptorChain& chain, const ChainLimits& limits) {
  uint64_t readable = 0, writable = 0;
  auto check = [](const BufferSegment& s) {
    FT_CHECK(s.addr.value() <= kFuzzRam && s.len <= kFuzzRam - s.addr.value())
        << "segment " << s.addr << "+" << s.len << " outside RAM";
    return uint64_t{s.len};
  };
  for (const BufferSegment& s : chain.readable) readable += check(s);
  for (const BufferSegment& s : chain.writable) writable += check(s);
  FT_CHECK(readable == chain.readable_bytes);
  FT_CHECK(writable == chain.writable_bytes);
  FT_CHECK(readable + writable <= limits.max_total_bytes);
  FT_CHECK(chain.head < limits.queue_size);
  FT_CHECK(chain.readable.size() + chain.writable.size() <=
           size_t{limits.queue_size} + kMaxIndirectEntries);
}

class Driver {
 public:
  explicit Driver(MmioTransport& t) : t_(t) {}
  void Write(uint64_t offset, uint32_t value) {
    t_.Access(IoAccess{
        .space = IoSpace::kMmio,
        .offset = offset,
        .is_write = true,
        .data = std::span(reinterpret_cast<uint8_t*>(&value), sizeof(value))});
  }
  uint32_t Read(uint64_t offset) {
    uint32_t value = 0;
    t_.Access(IoAccess{
        .space = IoSpace::kMmio,
        .offset = offset,
        .data = std::span(reinterpret_cast<uint8_t*>(&value), sizeof(value))});
    return value;
  }

 private:
  MmioTransport& t_;
};

void RunOne(const uint8_t* data, size_t size) {
  namespace mmio = virtio::mmio;
  fuzz::VirtqueueFuzzHeader h;
  if (size < sizeof(h)) return;
  std::memcpy(&h, data, sizeof(h));
  data += sizeof(h);
  size -= sizeof(h);
  std::vector<fuzz::MmioOp> ops(std::min<size_t>(h.mmio_ops, size / 6));
  if (!ops.empty()) {
    std::memcpy(ops.data(), data, ops.size() * sizeof(fuzz::MmioOp));
  }
  data += ops.size() * sizeof(fuzz::MmioOp);
  size -= ops.size() * sizeof(fuzz::MmioOp);

  const GuestMemory& memory = Memory();
  std::span<uint8_t> ram = memory.Slice(Gpa(0), kFuzzRam).value();
  std::memset(ram.data(), 0, ram.size());
  std::memcpy(ram.data(), data, std::min<size_t>(size, ram.size()));

  const bool raw_size = (h.flags & fuzz::kFuzzRawSize) != 0;
  const uint16_t queue_size =
      raw_size ? h.queue_size
               : static_cast<uint16_t>(1u << std::min(h.queue_size & 0xf, 15));
  const uint64_t desc = h.desc % (2 * kFuzzRam);
  const uint64_t avail = h.avail % (2 * kFuzzRam);
  const uint64_t used = h.used % (2 * kFuzzRam);

  // 1. The parser alone.
  const ChainLimits limits{
      .queue_size = queue_size,
      .indirect_allowed = (h.flags & fuzz::kFuzzIndirect) != 0,
      .max_total_bytes = 1 << 20};
  absl::StatusOr<DescriptorChain> chain =
      ParseDescriptorChain(memory, Gpa(desc), h.head, limits);
  if (chain.ok()) CheckChain(*chain, limits);

  // 2. virtio-blk behind the transport.
  AsyncEventQueue events;
  LevelIrq irq;
  auto device = VirtioBlk::Create({.backend = std::make_unique<MemoryBackend>(
                                       (h.flags & fuzz::kFuzzReadOnly) != 0)});
  FT_CHECK_OK(device.status());
  auto transport = MmioTransport::Create({.memory = &memory,
                                          .irq = &irq,
                                          .events = &events,
                                          .device = std::move(*device)});
  FT_CHECK_OK(transport.status());
  MmioTransport& t = **transport;
  Driver driver(t);

  uint64_t features = t.offered_features();
  if ((h.flags & fuzz::kFuzzEventIdx) == 0) {
    features &= ~virtio::FeatureBit(virtio::kFeatureRingEventIdx);
  }
  if ((h.flags & fuzz::kFuzzIndirect) == 0) {
    features &= ~virtio::FeatureBit(virtio::kFeatureIndirectDesc);
  }
  driver.Write(mmio::kStatus, virtio::kStatusAcknowledge);
  driver.Write(mmio::kStatus,
               virtio::kStatusAcknowledge | virtio::kStatusDriver);
  driver.Write(mmio::kDriverFeaturesSel, 0);
  driver.Write(mmio::kDriverFeatures, static_cast<uint32_t>(features));
  driver.Write(mmio::kDriverFeaturesSel, 1);
  driver.Write(mmio::kDriverFeatures, static_cast<uint32_t>(features >> 32));
  driver.Write(mmio::kStatus, virtio::kStatusAcknowledge |
                                  virtio::kStatusDriver |
                                  virtio::kStatusFeaturesOk);
  FT_CHECK((t.status() & virtio::kStatusFeaturesOk) != 0);
  driver.Write(mmio::kQueueSel, 0);
  driver.Write(mmio::kQueueNum, queue_size);
  driver.Write(mmio::kQueueDescLow, static_cast<uint32_t>(desc));
  driver.Write(mmio::kQueueDriverLow, static_cast<uint32_t>(avail));
  driver.Write(mmio::kQueueDeviceLow, static_cast<uint32_t>(used));
  driver.Write(mmio::kQueueReady, 1);
  driver.Write(mmio::kStatus,
               driver.Read(mmio::kStatus) | virtio::kStatusDriverOk);
  for (const fuzz::MmioOp& op : ops) {
    driver.Write(op.offset % MmioTransport::kWindowSize & ~3u, op.value);
  }

  for (int round = 0; round < std::min<int>(h.rounds, 8) + 1; ++round) {
    driver.Write(mmio::kQueueNotify, 0);
    events.DeliverPending();
    FT_CHECK(irq.level == (t.interrupt_status() != 0));
    driver.Write(mmio::kInterruptAck, driver.Read(mmio::kInterruptStatus));
    FT_CHECK(!irq.level);
  }
}

}  // namespace
}  // namespace ft::vmm

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ft::vmm::RunOne(data, size);
  return 0;
}
