// Test harness for virtio save/restore: a "machine" is one virtio-mmio
// slot with its own guest memory, IRQ line and driver. A test drives
// machine A, saves its slot, copies A's guest memory into a fresh machine
// B (memory travels separately from device state), restores the slot
// there, then applies the same driver actions and back-end events to both
// and compares everything the guest can see.
#ifndef FTVM_TESTS_UNIT_VIRTIO_SNAPSHOT_TEST_UTIL_H_
#define FTVM_TESTS_UNIT_VIRTIO_SNAPSHOT_TEST_UTIL_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "common/check.h"
#include "gtest/gtest.h"
#include "tests/unit/virtio/virtio_test_util.h"
#include "vmm/events/async_event.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/snapshot/virtio_codec.h"
#include "vmm/virtio/blk_backend.h"
#include "vmm/virtio/mmio_transport.h"
#include "vmm/virtio/net_backend.h"
#include "vmm/virtio/virtio_blk.h"
#include "vmm/virtio/virtio_device.h"
#include "vmm/virtio/virtio_net.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm::testing {

struct SnapshotMachine {
  explicit SnapshotMachine(uint64_t memory_bytes)
      : memory(MakeMemory(memory_bytes)) {}

  void Attach(std::unique_ptr<VirtioDevice> device) {
    auto t = MmioTransport::Create({.memory = &memory,
                                    .irq = &irq,
                                    .events = &events,
                                    .device = std::move(device)});
    FT_CHECK_OK(t.status());
    transport = std::move(*t);
    driver = std::make_unique<MmioDriver>(*transport);
  }
  // Delivers a back-end event as the vCPU thread (or a replayer) does.
  void Deliver(uint32_t kind, const std::vector<uint8_t>& data) {
    transport->OnAsyncEvent(
        AsyncEvent{.source = 0, .kind = kind, .data = data});
  }
  std::span<const uint8_t> Ram() const {
    auto all = memory.Slice(Gpa(0), memory.size());
    FT_CHECK_OK(all.status());
    return *all;
  }

  GuestMemory memory;
  FakeIrqLine irq;
  AsyncEventQueue events;
  std::unique_ptr<MmioTransport> transport;
  std::unique_ptr<MmioDriver> driver;
};

inline void CopyMemory(const SnapshotMachine& from, SnapshotMachine& to) {
  FT_CHECK_OK(to.memory.Write(Gpa(0), from.Ram()));
}

inline bool SameMemory(const SnapshotMachine& a, const SnapshotMachine& b) {
  const std::span<const uint8_t> x = a.Ram(), y = b.Ram();
  return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size()) == 0;
}

// What a driver can read from the slot: every register for each queue
// selected in turn (QueueSel ends at 0), and the configuration space.
inline std::vector<uint32_t> RegisterView(SnapshotMachine& m,
                                          uint16_t num_queues) {
  namespace mmio = virtio::mmio;
  std::vector<uint32_t> out;
  for (uint32_t sel = 0; sel <= num_queues; ++sel) {  // one out of range
    m.driver->Write(mmio::kQueueSel, sel);
    for (uint32_t fsel = 0; fsel < 2; ++fsel) {
      m.driver->Write(mmio::kDeviceFeaturesSel, fsel);
      out.push_back(m.driver->Read(mmio::kDeviceFeatures));
    }
    for (uint64_t offset = 0; offset < mmio::kConfig; offset += 4) {
      out.push_back(m.driver->Read(offset));
    }
  }
  m.driver->Write(mmio::kQueueSel, 0);
  for (uint64_t offset = mmio::kConfig; offset < mmio::kWindowSize;
       offset += 4) {
    out.push_back(m.driver->Read(offset));
  }
  out.push_back(m.irq.level ? 1 : 0);
  return out;
}

// Everything the guest or a later save can see of slots `a` and `b` (with
// `num_queues` queues) is the same: memory, interrupt status and line,
// registers, and the saved state itself.
inline void ExpectSameSlot(SnapshotMachine& a, SnapshotMachine& b,
                           uint16_t num_queues) {
  EXPECT_TRUE(SameMemory(a, b));
  EXPECT_EQ(a.transport->interrupt_status(), b.transport->interrupt_status());
  EXPECT_EQ(a.irq.level, b.irq.level);
  EXPECT_EQ(RegisterView(a, num_queues), RegisterView(b, num_queues));
  EXPECT_EQ(snapshot::SaveDevice(*a.transport),
            snapshot::SaveDevice(*b.transport));
}

inline std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

// A block back end that keeps what it is given; the test delivers the
// completions itself, to both machines, as a log would.
class RecordingBlockBackend : public BlockBackend {
 public:
  RecordingBlockBackend(uint64_t size_bytes,
                        std::vector<BlockRequest>* submitted)
      : size_bytes_(size_bytes), submitted_(submitted) {}
  uint64_t size_bytes() const override { return size_bytes_; }
  bool read_only() const override { return false; }
  void Connect(AsyncEventPoster /*poster*/) override {}
  void Submit(BlockRequest request) override {
    submitted_->push_back(std::move(request));
  }

 private:
  uint64_t size_bytes_;
  std::vector<BlockRequest>* submitted_;
};

// A machine with virtio-blk: one queue of `ring_size` at 0x1000. Request k
// has its header at kHeaders + 32k, its status byte at kStatus + k, and its
// data at `data` (chosen by the test).
struct BlkMachine : SnapshotMachine {
  static constexpr uint64_t kHeaders = 0x20000;
  static constexpr uint64_t kStatus = 0x30000;

  BlkMachine(uint64_t memory_bytes, uint64_t disk_bytes, uint16_t ring_size)
      : SnapshotMachine(memory_bytes), ring(memory, ring_size, 0x1000) {
    auto device =
        VirtioBlk::Create({.backend = std::make_unique<RecordingBlockBackend>(
                               disk_bytes, &submitted)});
    FT_CHECK_OK(device.status());
    Attach(std::move(*device));
  }
  // Publishes request k (descriptors 3k..3k+2) without notifying.
  void Queue(uint16_t k, uint32_t type, uint64_t sector, uint64_t data,
             uint32_t data_len) {
    ring.Put(kHeaders + 32 * k, virtio::blk::RequestHeader{type, 0, sector});
    ring.Put<uint8_t>(kStatus + k, 0xee);
    std::vector<Buf> bufs = {{kHeaders + 32 * k, 16}};
    if (data_len != 0) {
      bufs.push_back({data, data_len, type != virtio::blk::kTypeOut});
    }
    bufs.push_back({kStatus + k, 1, true});
    ring.SetChain(static_cast<uint16_t>(3 * k), bufs);
    ring.Publish(static_cast<uint16_t>(3 * k));
  }
  uint8_t StatusOf(uint16_t k) { return ring.Get<uint8_t>(kStatus + k); }
  void Complete(uint64_t id, uint8_t status, std::vector<uint8_t> data = {}) {
    Deliver(kBlockCompletionEvent,
            EncodeBlockCompletion(
                {.id = id, .status = status, .data = std::move(data)}));
  }

  std::vector<BlockRequest> submitted;
  RingBuilder ring;
};

struct NetLog {
  std::vector<std::vector<uint8_t>> sent;
  size_t released = 0;
  bool receiving = false;
};

class RecordingNetBackend : public NetBackend {
 public:
  explicit RecordingNetBackend(NetLog* log) : log_(log) {}
  void Connect(AsyncEventPoster /*poster*/) override {}
  void Transmit(std::span<const uint8_t> frame) override {
    log_->sent.emplace_back(frame.begin(), frame.end());
  }
  void ReleaseRx(size_t frames) override { log_->released += frames; }
  void SetReceiving(bool receiving) override { log_->receiving = receiving; }

 private:
  NetLog* log_;
};

// A machine with virtio-net: 16-entry receive and transmit queues; receive
// buffer k (2 KiB, one descriptor k) at kRxBuffers + 2048k, transmit frame
// k (header and frame in descriptors 2k, 2k+1) at kTxBuffers + 2048k.
struct NetMachine : SnapshotMachine {
  static constexpr uint64_t kRxBuffers = 0x100000;
  static constexpr uint64_t kTxBuffers = 0x200000;
  static constexpr uint32_t kBufferSize = 2048;

  NetMachine()
      : SnapshotMachine(4 << 20),
        rx(memory, 16, 0x1000),
        tx(memory, 16, 0x10000) {
    auto device = VirtioNet::Create(
        {.backend = std::make_unique<RecordingNetBackend>(&log),
         .mac = MacAddress{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}}});
    FT_CHECK_OK(device.status());
    net = device->get();
    Attach(std::move(*device));
  }
  void PostRx(uint16_t k) {
    rx.SetChain(k, {{kRxBuffers + kBufferSize * k, kBufferSize, true}});
    rx.Publish(k);
  }
  void QueueTx(uint16_t k, const std::vector<uint8_t>& frame) {
    const uint64_t at = kTxBuffers + kBufferSize * k;
    FT_CHECK_OK(memory.Write(Gpa(at),
                             std::vector<uint8_t>(VirtioNet::kHeaderBytes, 0)));
    FT_CHECK_OK(memory.Write(Gpa(at + 64), frame));
    tx.SetChain(static_cast<uint16_t>(2 * k),
                {{at, static_cast<uint32_t>(VirtioNet::kHeaderBytes)},
                 {at + 64, static_cast<uint32_t>(frame.size())}});
    tx.Publish(static_cast<uint16_t>(2 * k));
  }
  void Receive(const std::vector<std::vector<uint8_t>>& frames) {
    Deliver(kNetRxFramesEvent, EncodeRxFrames(frames));
  }

  NetLog log;
  VirtioNet* net = nullptr;
  RingBuilder rx;
  RingBuilder tx;
};

// After copying memory into `to`: its driver continues where `from`'s
// left off (the ring builders' own available index).
inline void SyncAvailIdx(RingBuilder& to) {
  to.SetAvailIdx(to.Get<uint16_t>(to.avail() + 2));
}

}  // namespace ft::vmm::testing

#endif  // FTVM_TESTS_UNIT_VIRTIO_SNAPSHOT_TEST_UTIL_H_
