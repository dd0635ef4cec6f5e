// Test helpers for virtio: a driver's-eye view of split rings in a real
// GuestMemory (RingBuilder), a driver speaking the virtio-mmio register
// protocol (MmioDriver), and an IrqLine that records its level.
#ifndef FTVM_TESTS_UNIT_VIRTIO_VIRTIO_TEST_UTIL_H_
#define FTVM_TESTS_UNIT_VIRTIO_VIRTIO_TEST_UTIL_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "common/check.h"
#include "vmm/devices/irq_line.h"
#include "vmm/io/io_bus.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/virtio_spec.h"
#include "vmm/virtio/virtqueue.h"

namespace ft::vmm::testing {

inline GuestMemory MakeMemory(uint64_t size) {
  absl::StatusOr<GuestMemory> memory = GuestMemory::Create({.size = size});
  FT_CHECK_OK(memory.status());
  return std::move(*memory);
}

class FakeIrqLine : public IrqLine {
 public:
  void Set(bool level) override {
    if (level && !this->level) ++rises;
    this->level = level;
  }
  bool level = false;
  int rises = 0;
};

// One buffer of a chain as a driver describes it.
struct Buf {
  uint64_t addr;
  uint32_t len;
  bool writable = false;
};

// Lays out a queue of `size` entries at `base`: the descriptor table, then
// the available ring, then (4 KiB aligned) the used ring.
class RingBuilder {
 public:
  RingBuilder(const GuestMemory& memory, uint16_t size, uint64_t base)
      : memory_(memory),
        size_(size),
        desc_(base),
        avail_(base + virtio::DescTableBytes(size)),
        used_((avail_ + virtio::AvailRingBytes(size) + 4095) & ~4095ull) {}

  uint16_t size() const { return size_; }
  uint64_t desc() const { return desc_; }
  uint64_t avail() const { return avail_; }
  uint64_t used() const { return used_; }
  // One past the last byte of the rings.
  uint64_t end() const { return used_ + virtio::UsedRingBytes(size_); }

  VirtqueueConfig Config(bool event_idx = false, bool indirect = false) const {
    return VirtqueueConfig{.size = size_,
                           .desc_table = Gpa(desc_),
                           .avail_ring = Gpa(avail_),
                           .used_ring = Gpa(used_),
                           .event_idx = event_idx,
                           .indirect = indirect};
  }

  void SetDesc(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags,
               uint16_t next = 0) {
    Put(desc_ + virtio::kDescSize * index,
        virtio::VirtqDesc{addr, len, flags, next});
  }
  // Writes `bufs` into consecutive descriptors from `first`, linked with
  // NEXT; returns the head (`first`).
  uint16_t SetChain(uint16_t first, const std::vector<Buf>& bufs) {
    for (size_t i = 0; i < bufs.size(); ++i) {
      const uint16_t index = static_cast<uint16_t>(first + i);
      const bool last = i + 1 == bufs.size();
      const uint16_t flags = (bufs[i].writable ? virtio::kDescFlagWrite : 0) |
                             (last ? 0 : virtio::kDescFlagNext);
      SetDesc(index, bufs[i].addr, bufs[i].len, flags,
              last ? 0 : static_cast<uint16_t>(index + 1));
    }
    return first;
  }
  // Writes `bufs` as an indirect table at `table` (entries linked in order).
  static std::vector<virtio::VirtqDesc> IndirectTable(
      const std::vector<Buf>& bufs) {
    std::vector<virtio::VirtqDesc> table;
    for (size_t i = 0; i < bufs.size(); ++i) {
      const bool last = i + 1 == bufs.size();
      table.push_back(virtio::VirtqDesc{
          bufs[i].addr, bufs[i].len,
          static_cast<uint16_t>(
              (bufs[i].writable ? virtio::kDescFlagWrite : 0) |
              (last ? 0 : virtio::kDescFlagNext)),
          static_cast<uint16_t>(last ? 0 : i + 1)});
    }
    return table;
  }

  // Makes `head` available and advances the available index.
  void Publish(uint16_t head) {
    Put<uint16_t>(avail_ + 4 + 2 * (avail_idx_ % size_), head);
    ++avail_idx_;
    Put<uint16_t>(avail_ + 2, avail_idx_);
  }
  void SetAvailIdx(uint16_t idx) {
    avail_idx_ = idx;
    Put<uint16_t>(avail_ + 2, idx);
  }
  void SetAvailFlags(uint16_t flags) { Put<uint16_t>(avail_, flags); }
  void SetUsedEvent(uint16_t idx) {
    Put<uint16_t>(avail_ + 4 + 2 * size_, idx);
  }

  uint16_t UsedIdx() const { return Get<uint16_t>(used_ + 2); }
  uint16_t UsedFlags() const { return Get<uint16_t>(used_); }
  uint16_t AvailEvent() const { return Get<uint16_t>(used_ + 4 + 8 * size_); }
  virtio::VirtqUsedElem Used(uint16_t idx) const {
    return Get<virtio::VirtqUsedElem>(used_ + 4 + 8 * (idx % size_));
  }

  template <typename T>
  void Put(uint64_t gpa, const T& value) const {
    FT_CHECK_OK(memory_.WriteObject(Gpa(gpa), value));
  }
  template <typename T>
  T Get(uint64_t gpa) const {
    absl::StatusOr<T> v = memory_.ReadObject<T>(Gpa(gpa));
    FT_CHECK_OK(v.status());
    return *v;
  }

 private:
  const GuestMemory& memory_;
  uint16_t size_;
  uint64_t desc_;
  uint64_t avail_;
  uint64_t used_;
  uint16_t avail_idx_ = 0;
};

// Speaks the virtio-mmio register protocol to a device window.
class MmioDriver {
 public:
  explicit MmioDriver(IoDevice& device) : device_(device) {}

  uint32_t Read(uint64_t offset) {
    uint32_t v = 0;
    Access(offset, false, std::span(reinterpret_cast<uint8_t*>(&v), 4));
    return v;
  }
  void Write(uint64_t offset, uint32_t value) {
    Access(offset, true, std::span(reinterpret_cast<uint8_t*>(&value), 4));
  }
  void Access(uint64_t offset, bool is_write, std::span<uint8_t> data) {
    device_.Access(IoAccess{.space = IoSpace::kMmio,
                            .address = 0xd000'0000 + offset,
                            .offset = offset,
                            .is_write = is_write,
                            .data = data});
  }

  uint64_t DeviceFeatures() {
    Write(virtio::mmio::kDeviceFeaturesSel, 0);
    uint64_t f = Read(virtio::mmio::kDeviceFeatures);
    Write(virtio::mmio::kDeviceFeaturesSel, 1);
    return f | uint64_t{Read(virtio::mmio::kDeviceFeatures)} << 32;
  }
  // ACKNOWLEDGE, DRIVER, write `features`, FEATURES_OK; returns whether the
  // device kept FEATURES_OK.
  bool Negotiate(uint64_t features) {
    Write(virtio::mmio::kStatus, 0);
    Write(virtio::mmio::kStatus, virtio::kStatusAcknowledge);
    Write(virtio::mmio::kStatus,
          virtio::kStatusAcknowledge | virtio::kStatusDriver);
    Write(virtio::mmio::kDriverFeaturesSel, 0);
    Write(virtio::mmio::kDriverFeatures, static_cast<uint32_t>(features));
    Write(virtio::mmio::kDriverFeaturesSel, 1);
    Write(virtio::mmio::kDriverFeatures, static_cast<uint32_t>(features >> 32));
    Write(virtio::mmio::kStatus, virtio::kStatusAcknowledge |
                                     virtio::kStatusDriver |
                                     virtio::kStatusFeaturesOk);
    return (Read(virtio::mmio::kStatus) & virtio::kStatusFeaturesOk) != 0;
  }
  void SetupQueue(uint16_t index, const RingBuilder& ring) {
    Write(virtio::mmio::kQueueSel, index);
    Write(virtio::mmio::kQueueNum, ring.size());
    Write(virtio::mmio::kQueueDescLow, static_cast<uint32_t>(ring.desc()));
    Write(virtio::mmio::kQueueDescHigh, ring.desc() >> 32);
    Write(virtio::mmio::kQueueDriverLow, static_cast<uint32_t>(ring.avail()));
    Write(virtio::mmio::kQueueDriverHigh, ring.avail() >> 32);
    Write(virtio::mmio::kQueueDeviceLow, static_cast<uint32_t>(ring.used()));
    Write(virtio::mmio::kQueueDeviceHigh, ring.used() >> 32);
    Write(virtio::mmio::kQueueReady, 1);
  }
  void DriverOk() {
    Write(virtio::mmio::kStatus,
          Read(virtio::mmio::kStatus) | virtio::kStatusDriverOk);
  }
  // Negotiates everything offered, sets up queue 0 and goes live.
  bool Init(const RingBuilder& ring) {
    if (!Negotiate(DeviceFeatures())) return false;
    SetupQueue(0, ring);
    DriverOk();
    return (Read(virtio::mmio::kStatus) & virtio::kStatusNeedsReset) == 0;
  }
  void Notify(uint16_t queue) { Write(virtio::mmio::kQueueNotify, queue); }
  uint32_t AckInterrupts() {
    const uint32_t bits = Read(virtio::mmio::kInterruptStatus);
    Write(virtio::mmio::kInterruptAck, bits);
    return bits;
  }

 private:
  IoDevice& device_;
};

}  // namespace ft::vmm::testing

#endif  // FTVM_TESTS_UNIT_VIRTIO_VIRTIO_TEST_UTIL_H_
