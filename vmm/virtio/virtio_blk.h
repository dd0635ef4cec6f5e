// VirtioBlk: a virtio-blk device model (virtio 1.x, 5.2) with one request
// queue, over a BlockBackend (a raw image file for `--disk PATH`).
//
// Requests: IN (read), OUT (write), FLUSH and GET_ID; any other type is
// answered VIRTIO_BLK_S_UNSUPP, and a transfer that is not whole sectors or
// passes the end of the disk (or writes a read-only disk) VIRTIO_BLK_S_IOERR.
// Offers FLUSH (the guest sees a write-back cache, and a flush completes only
// once the data is on stable storage), SEG_MAX, BLK_SIZE, and RO for
// read-only images.
//
// Reads, writes and flushes run on the back end's thread; GET_ID and refused
// requests are answered at once. Completions come back as AsyncEvents (see
// blk_backend.h for what they carry and why), and only then is guest memory
// written, the used ring filled and the interrupt raised.
//
// A request without a 16-byte header or a status byte is a broken driver:
// the device is marked DEVICE_NEEDS_RESET.
//
// Host memory: write data is copied out of the guest when a request is
// submitted and read data is buffered until delivered, so the device stops
// taking requests from the ring while kMaxOutstandingBytes are with the back
// end, and resumes as completions return.
//
// Thread ownership: a VirtioDevice (all calls under the transport lock on a
// vCPU thread); the back end has its own thread.
#ifndef FTVM_VMM_VIRTIO_VIRTIO_BLK_H_
#define FTVM_VMM_VIRTIO_VIRTIO_BLK_H_

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "vmm/virtio/blk_backend.h"
#include "vmm/virtio/virtio_device.h"
#include "vmm/virtio/virtqueue.h"

namespace ft::vmm {

class VirtioBlk : public VirtioDevice {
 public:
  static constexpr uint16_t kQueueSize = 256;
  static constexpr uint64_t kMaxOutstandingBytes = 64ull << 20;
  // What a request costs against kMaxOutstandingBytes at least, so that
  // zero-length requests (flushes) are bounded in number too.
  static constexpr uint64_t kMinRequestCost = 4096;
  static constexpr size_t kConfigSize = 36;  // through num_queues

  struct Options {
    std::unique_ptr<BlockBackend> backend;
    // The GET_ID answer, at most 20 bytes. Part of the VM's configuration,
    // not derived from the host file, so that a primary and its secondary
    // (whose images live on different hosts) answer the same.
    std::string serial = "ftvm-disk0";
  };
  static absl::StatusOr<std::unique_ptr<VirtioBlk>> Create(Options options);

  std::string_view name() const override { return "virtio-blk"; }
  uint32_t device_id() const override;
  uint64_t device_features() const override;
  uint16_t num_queues() const override { return 1; }
  uint16_t max_queue_size(uint16_t /*index*/) const override {
    return kQueueSize;
  }
  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override;
  void WriteConfig(uint64_t /*offset*/,
                   std::span<const uint8_t> /*data*/) override {}
  void ConnectEvents(AsyncEventPoster poster) override;
  void OnDriverReady(VirtioContext& ctx) override { ProcessQueue(ctx); }
  void OnQueueNotify(VirtioContext& ctx, uint16_t index) override;
  void OnAsyncEvent(VirtioContext& ctx, const AsyncEvent& event) override;
  void Reset() override;
  // The requests in flight, the back end's budget and a deferred chain.
  // A restore checks each request against guest RAM, the queue it returns
  // to and the budget, and submits nothing to the back end.
  VirtioDeviceState SaveState() const override;
  absl::Status RestoreState(const VirtioDeviceState& state,
                            const VirtioRestoreView& view) override;

  uint64_t capacity_sectors() const { return capacity_sectors_; }

 private:
  // A request with the back end, as the guest sees it.
  struct InFlight {
    uint64_t epoch = 0;  // of the queue it came from
    uint16_t head = 0;
    uint32_t type = 0;
    std::vector<BufferSegment> writable;
    uint64_t status_offset = 0;  // the last writable byte
    uint64_t data_len = 0;       // IN: bytes to write into the guest
  };

  explicit VirtioBlk(Options options);
  // Takes requests from the ring until it is empty, the device breaks, or
  // the back end has all it may hold.
  void ProcessQueue(VirtioContext& ctx);
  // Handles one chain. Returns false if it must wait for the back end to
  // catch up (the chain is then kept in deferred_) or the device broke.
  bool HandleChain(VirtioContext& ctx, Virtqueue& vq, DescriptorChain& chain,
                   bool& pushed);
  // Status for a transfer of `len` bytes at `sector`, before any I/O.
  uint8_t CheckTransfer(uint64_t sector, uint64_t len) const;
  bool FitsBudget(uint64_t cost) const;
  void SubmitToBackend(BlockRequest request, InFlight inflight, uint64_t cost);
  // Writes the status byte and returns the chain to the driver.
  void Complete(VirtioContext& ctx, Virtqueue& vq, const InFlight& request,
                uint8_t status, uint64_t data_written);
  // RestoreState's checks of one request and of the deferred chain.
  absl::Status CheckRequest(const VirtioBlkState::Request& r,
                            const VirtioRestoreView& view) const;
  absl::Status CheckDeferred(const DescriptorChain& chain, uint64_t epoch,
                             const VirtioRestoreView& view) const;

  std::unique_ptr<BlockBackend> backend_;
  std::array<uint8_t, 20> id_{};  // the GET_ID answer, NUL-padded
  uint64_t capacity_sectors_ = 0;
  bool read_only_ = false;
  std::array<uint8_t, kConfigSize> config_{};

  // Request ids are never reused, so a completion for a request the driver
  // has since reset away finds nothing in inflight_ and is dropped.
  uint64_t next_id_ = 1;
  std::map<uint64_t, InFlight> inflight_;  // guest-visible; cleared by reset
  // What each request with the back end costs; cleared only by its
  // completion, so a driver that resets in a loop cannot pile up work.
  std::map<uint64_t, uint64_t> outstanding_;
  uint64_t outstanding_bytes_ = 0;
  // A popped chain waiting for room at the back end, and its queue's epoch.
  std::optional<DescriptorChain> deferred_;
  uint64_t deferred_epoch_ = 0;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VIRTIO_VIRTIO_BLK_H_
