// The save/restore contract of the virtio device models: what each device
// keeps of its own beyond the transport's registers and queue positions
// (VirtioDeviceState), and what a device checks a restored state against
// (VirtioRestoreView).
//
// A state is taken on one machine (a recording primary, between exits) and
// restored on another built from the same configuration (a replaying
// secondary, later a migration target); guest memory travels separately.
// It holds guest-visible state only: in-flight requests as the guest will
// see them complete, never host resources (fds, threads, back-end queues).
// Restores treat every field as coming from a peer (see RestoreState).
//
// Plain data, so that a codec (vmm/snapshot/virtio_codec.h) can carry it
// without knowing the device classes.
#ifndef FTVM_VMM_VIRTIO_DEVICE_STATE_H_
#define FTVM_VMM_VIRTIO_DEVICE_STATE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "vmm/memory/guest_memory.h"
#include "vmm/virtio/virtqueue.h"

namespace ft::vmm {

// VirtioBlk (virtio_blk.h).
struct VirtioBlkState {
  // A request handed to the back end whose completion the driver has not
  // seen yet. Its completion event, delivered after the restore (on a
  // secondary: from the log), is applied exactly as the saving machine
  // would have applied it. Nothing resubmits it: a target with a live back
  // end (migration) gets no completion, so such a save must wait until the
  // source's back end has drained (in_flight empty).
  struct Request {
    uint64_t id = 0;     // the back end's request id, in [1, next_id)
    uint64_t epoch = 0;  // of the queue incarnation it came from
    uint16_t head = 0;
    uint32_t type = 0;  // IN, OUT or FLUSH
    std::vector<BufferSegment> writable;
    uint64_t status_offset = 0;  // the last writable byte
    uint64_t data_len = 0;       // IN: bytes the completion writes
  };
  // What a request still with the back end costs against the device's
  // budget. Outlives a driver reset (which forgets `in_flight`).
  struct Outstanding {
    uint64_t id = 0;
    uint64_t cost = 0;
  };
  uint64_t next_id = 1;
  std::vector<Request> in_flight;        // ascending id
  std::vector<Outstanding> outstanding;  // ascending id
  // A chain popped from the ring and waiting for room at the back end.
  std::optional<DescriptorChain> deferred;
  uint64_t deferred_epoch = 0;
};

// VirtioNet (virtio_net.h). Transmission completes within the notify that
// starts it, so only the receive side has work in progress.
struct VirtioNetState {
  // Frames the back end delivered that wait for receive buffers, oldest
  // first.
  std::vector<std::vector<uint8_t>> pending_rx;
  // Counters (VirtioNet::Stats), carried so that they continue.
  uint64_t rx_frames = 0;
  uint64_t rx_dropped = 0;
  uint64_t tx_frames = 0;
  uint64_t tx_dropped = 0;
};

// One alternative per device model; std::monostate for a device that keeps
// nothing outside the transport. A device refuses any other alternative
// than its own, so a disk's state never lands in a network card.
using VirtioDeviceState =
    std::variant<std::monostate, VirtioBlkState, VirtioNetState>;

// For messages: "empty", "virtio-blk" or "virtio-net".
inline std::string_view DeviceStateKind(const VirtioDeviceState& state) {
  constexpr std::string_view kNames[] = {"empty", "virtio-blk", "virtio-net"};
  return kNames[state.index()];
}

// The transport state being restored together with a device state, for the
// device to check its own against (e.g. that an in-flight request's head
// fits the queue it will be returned to).
struct VirtioRestoreView {
  const GuestMemory* memory = nullptr;
  // Per queue: its size if it will be ready after the restore, else 0.
  std::span<const uint16_t> queue_sizes;
  // Per queue: its epoch after the restore (meaningful when ready).
  std::span<const uint64_t> queue_epochs;
  // No queue incarnation has an epoch above this.
  uint64_t max_epoch = 0;
  // The driver is ready after the restore (DRIVER_OK, and neither
  // NEEDS_RESET nor FAILED).
  bool live = false;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VIRTIO_DEVICE_STATE_H_
