// VirtioNet: a virtio-net device model (virtio 1.x, 5.1) with one receive
// and one transmit queue, over a NetBackend (a TAP for `--net tap=IFNAME`).
//
// Offers MAC and STATUS (the link is always up); no checksum offload, no
// segmentation offload and no mergeable receive buffers, so every frame is
// a plain Ethernet frame of at most Tap::kMaxFrame bytes behind a 12-byte
// header, and each received frame takes one receive chain.
//
// Receive: frames arrive from the back end as AsyncEvents (batches), wait
// in a queue bounded by the back end's in-flight limit, and are written
// into the guest's receive buffers as they become available. Frames that
// arrive before the driver is ready, or while the device waits for a
// reset, are dropped, as by a NIC whose link is down: the back end is told
// (NetBackend::SetReceiving) and discards them before they become events;
// one already posted is dropped here.
//
// Transmit: each chain is one frame (header included). A chain longer than
// a header plus Tap::kMaxFrame is malformed (the transport refuses it and
// the device needs a reset); a frame shorter than an Ethernet header is
// dropped and counted.
//
// A receive chain too small for the frame at hand (without mergeable
// buffers the driver must post whole-frame buffers, 5.1.6.3.1) breaks the
// device: DEVICE_NEEDS_RESET with a log line.
//
// Thread ownership: a VirtioDevice (all calls under the transport lock on a
// vCPU thread); stats() from any thread.
#ifndef FTVM_VMM_VIRTIO_VIRTIO_NET_H_
#define FTVM_VMM_VIRTIO_VIRTIO_NET_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "vmm/backends/tap.h"
#include "vmm/virtio/net_backend.h"
#include "vmm/virtio/virtio_device.h"

namespace ft::vmm {

class VirtioNet : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  static constexpr size_t kConfigSize = 8;  // mac, status
  static constexpr uint64_t kHeaderBytes = 12;

  struct Options {
    std::unique_ptr<NetBackend> backend;
    MacAddress mac;
  };
  static absl::StatusOr<std::unique_ptr<VirtioNet>> Create(Options options);

  struct Stats {
    uint64_t rx_frames = 0;   // written into the guest
    uint64_t rx_dropped = 0;  // driver not ready or device broken
    uint64_t tx_frames = 0;   // handed to the back end
    uint64_t tx_dropped = 0;  // shorter than an Ethernet header
  };
  // Any thread (e.g. a status report while the guest runs).
  Stats stats() const;

  std::string_view name() const override { return "virtio-net"; }
  uint32_t device_id() const override;
  uint64_t device_features() const override;
  uint16_t num_queues() const override { return 2; }
  uint16_t max_queue_size(uint16_t /*index*/) const override {
    return kQueueSize;
  }
  uint64_t max_chain_bytes(uint16_t index) const override;
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override;
  void WriteConfig(uint64_t /*offset*/,
                   std::span<const uint8_t> /*data*/) override {}
  void ConnectEvents(AsyncEventPoster poster) override;
  void OnDriverReady(VirtioContext& ctx) override;
  void OnQueueNotify(VirtioContext& ctx, uint16_t index) override;
  void OnAsyncEvent(VirtioContext& ctx, const AsyncEvent& event) override;
  void Reset() override;
  // The received frames waiting for buffers, and the counters.
  VirtioDeviceState SaveState() const override;
  absl::Status RestoreState(const VirtioDeviceState& state,
                            const VirtioRestoreView& view) override;

 private:
  explicit VirtioNet(Options options);
  static void Count(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  // Moves waiting frames into receive buffers while there are both.
  void DeliverRx(VirtioContext& ctx);
  void ProcessTx(VirtioContext& ctx);
  // Drops every waiting frame and gives them back to the back end.
  void DropPending();

  std::unique_ptr<NetBackend> backend_;
  std::array<uint8_t, kConfigSize> config_{};
  std::deque<std::vector<uint8_t>> pending_rx_;
  std::atomic<uint64_t> rx_frames_{0};
  std::atomic<uint64_t> rx_dropped_{0};
  std::atomic<uint64_t> tx_frames_{0};
  std::atomic<uint64_t> tx_dropped_{0};
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VIRTIO_VIRTIO_NET_H_
