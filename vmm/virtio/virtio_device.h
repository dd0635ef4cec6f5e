// The interface between a virtio transport and a virtio device model
// (virtio-blk, virtio-net), and the handle through which a device's back end
// posts asynchronous events.
//
// The transport owns the register protocol, the feature negotiation, the
// queues and the interrupt; the device owns what its requests mean. A device
// touches the queues and guest memory only inside a callback (OnQueueNotify,
// OnAsyncEvent, OnDriverReady) through the VirtioContext it is handed, so
// every guest-visible effect happens at a point the record/replay layer can
// name: an MMIO exit, or the delivery of a logged event.
//
// Thread ownership: every VirtioDevice method runs with the transport's lock
// held, on a vCPU thread. A device's back end threads never call it; they
// only Post through an AsyncEventPoster.
#ifndef FTVM_VMM_VIRTIO_VIRTIO_DEVICE_H_
#define FTVM_VMM_VIRTIO_VIRTIO_DEVICE_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "vmm/events/async_event.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/device_state.h"
#include "vmm/virtio/virtqueue.h"

namespace ft::vmm {

// Posts events of one source (a device) into the machine's AsyncEventQueue.
// Copyable; valid while the queue lives. Post() may be called from any
// thread.
class AsyncEventPoster {
 public:
  AsyncEventPoster() = default;
  AsyncEventPoster(AsyncEventQueue* queue, uint32_t source)
      : queue_(queue), source_(source) {}

  bool valid() const { return queue_ != nullptr; }
  void Post(uint32_t kind, std::vector<uint8_t> data) const {
    queue_->Post(
        AsyncEvent{.source = source_, .kind = kind, .data = std::move(data)});
  }

 private:
  AsyncEventQueue* queue_ = nullptr;
  uint32_t source_ = 0;
};

// What a device may use during a callback. Implemented by the transport;
// valid only for the duration of the callback.
class VirtioContext {
 public:
  virtual const GuestMemory& memory() const = 0;
  // Queue `index` if the driver has made it ready, else null.
  virtual Virtqueue* queue(uint16_t index) = 0;
  // Changes every time queue `index` is enabled again. A device tags
  // in-flight work with it and drops completions of an earlier incarnation
  // instead of writing them into a ring the driver has since replaced.
  virtual uint64_t queue_epoch(uint16_t index) const = 0;
  virtual uint64_t driver_features() const = 0;
  // The device is broken and waits for the driver to reset it: it must not
  // use its queues until then.
  virtual bool needs_reset() const = 0;
  // After PushUsed on queue `index`: raises the used-buffer interrupt if the
  // driver asked for one (event index or flags).
  virtual void NotifyUsed(uint16_t index) = 0;
  // The guest broke the protocol (a malformed chain or request): sets
  // DEVICE_NEEDS_RESET, logs `why` once, and tells the driver through a
  // configuration-change interrupt.
  virtual void SetNeedsReset(std::string_view why) = 0;
  // The device changed its configuration space (e.g. link status).
  virtual void ConfigChanged() = 0;

 protected:
  ~VirtioContext() = default;
};

// Copies bytes [offset, offset + out.size()) of a device's configuration
// space `config` into `out`, zeros past its end (what ReadConfig promises).
inline void ReadConfigBytes(std::span<const uint8_t> config, uint64_t offset,
                            std::span<uint8_t> out) {
  for (size_t i = 0; i < out.size(); ++i) {
    const uint64_t at = offset + i;
    out[i] = at < config.size() ? config[at] : 0;
  }
}

class VirtioDevice {
 public:
  virtual ~VirtioDevice() = default;

  virtual std::string_view name() const = 0;
  virtual uint32_t device_id() const = 0;
  // Device-specific feature bits. The transport adds VIRTIO_F_VERSION_1,
  // VIRTIO_F_RING_EVENT_IDX and VIRTIO_F_INDIRECT_DESC itself.
  virtual uint64_t device_features() const = 0;
  virtual uint16_t num_queues() const = 0;
  // A power of two, at most 32768.
  virtual uint16_t max_queue_size(uint16_t index) const = 0;
  // Largest sum of buffer lengths the device accepts in one chain of queue
  // `index`; longer chains are malformed.
  virtual uint64_t max_chain_bytes(uint16_t /*index*/) const {
    return kDefaultMaxChainBytes;
  }

  // Device configuration space, at `offset` from its start. Reads fill every
  // byte of `data` (zeros past the end); writes to read-only fields are
  // ignored.
  virtual void ReadConfig(uint64_t offset, std::span<uint8_t> data) = 0;
  virtual void WriteConfig(uint64_t offset, std::span<const uint8_t> data) = 0;

  // Set-up, once, before the guest runs: where the device's back end posts
  // its asynchronous events (they return through OnAsyncEvent).
  virtual void ConnectEvents(AsyncEventPoster /*poster*/) {}

  // The driver set DRIVER_OK: the queues it enabled may now be used.
  virtual void OnDriverReady(VirtioContext& /*ctx*/) {}
  // The driver wrote queue `index` to QueueNotify (index < num_queues, the
  // device is live and not broken).
  virtual void OnQueueNotify(VirtioContext& ctx, uint16_t index) = 0;
  // An event this device's back end posted, as delivered (and on a secondary
  // replayed) on the vCPU thread. Called even while the device waits for a
  // reset, so it can retire the work the event completes.
  virtual void OnAsyncEvent(VirtioContext& /*ctx*/,
                            const AsyncEvent& /*event*/) {}
  // The driver reset the device: forget every guest-visible request. Work
  // already handed to a back end still completes later; its events must
  // then be recognised as stale and dropped.
  virtual void Reset() = 0;

  // Save/restore (device_state.h). SaveState runs between exits (no
  // callback in progress). RestoreState checks every field of `state`
  // against `view` and the device's own limits, and either takes all of it
  // or (on error) changes nothing. It starts no back-end work: requests in
  // flight on the saving machine complete through events delivered later,
  // so the device's back end must have no work of its own (a new machine,
  // or an inert back end on a replaying one).
  virtual VirtioDeviceState SaveState() const = 0;
  virtual absl::Status RestoreState(const VirtioDeviceState& state,
                                    const VirtioRestoreView& view) = 0;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VIRTIO_VIRTIO_DEVICE_H_
