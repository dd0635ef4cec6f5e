// Split virtqueues (virtio 1.x, 2.7): the descriptor-chain parser and the
// device side of one queue (reading the available ring, writing the used
// ring, event-index notification suppression in both directions).
//
// Everything in the rings is written by the guest and is hostile input. The
// parser copies each descriptor out of guest memory exactly once and then
// validates the copy, so a guest rewriting a descriptor while it is parsed
// cannot make the device see two different values. Every buffer address is
// checked through GuestMemory::Slice. A malformed chain is an error Status,
// never a crash; the device then marks itself DEVICE_NEEDS_RESET.
//
// Thread ownership: a Virtqueue belongs to its transport and is used only
// while the transport's lock is held (on a vCPU thread). ParseDescriptorChain
// is a pure function of guest memory and may run anywhere.
#ifndef FTVM_VMM_VIRTIO_VIRTQUEUE_H_
#define FTVM_VMM_VIRTIO_VIRTQUEUE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "common/strong_types.h"
#include "vmm/memory/guest_memory.h"

namespace ft::vmm {

// One guest buffer of a chain, already checked to lie inside guest RAM.
struct BufferSegment {
  Gpa addr;
  uint32_t len = 0;
};

// A validated descriptor chain: device-readable buffers, then device-writable
// ones, in chain order.
struct DescriptorChain {
  uint16_t head = 0;  // the index the used ring must return
  std::vector<BufferSegment> readable;
  std::vector<BufferSegment> writable;
  uint64_t readable_bytes = 0;
  uint64_t writable_bytes = 0;
};

struct ChainLimits {
  // Entries in the descriptor table. Bounds every index and the number of
  // descriptors one chain visits in the table (2.7.5.3.1: no chain is longer
  // than the queue), so a loop is caught when the count passes it.
  uint16_t queue_size = 0;
  // VIRTIO_F_INDIRECT_DESC was negotiated.
  bool indirect_allowed = false;
  // Sum of all buffer lengths; bounds what a device may have to copy.
  uint64_t max_total_bytes = 0;
};

// Entries in one indirect table. Not tied to the queue size: Linux puts up
// to its scatter-gather count in a table even on a small queue. 1024 is
// QEMU's limit (VIRTQUEUE_MAX_SIZE) and above anything Linux sends.
inline constexpr uint32_t kMaxIndirectEntries = 1024;

// Largest sum of buffer lengths in one chain unless a device asks otherwise:
// far above any real request (Linux's virtio-blk sends at most a few MiB),
// small enough that a hostile chain cannot make a device buffer gigabytes.
inline constexpr uint64_t kDefaultMaxChainBytes = 64ull << 20;

// Copies and validates the chain starting at `head` of the descriptor table
// at `desc_table` (limits.queue_size entries). Fails with InvalidArgument
// (a message naming the fault) for: head or next index out of range, a loop
// or a chain longer than the queue, a buffer outside guest RAM (including
// address + length wrapping), a readable buffer after a writable one, an
// indirect descriptor that is not allowed / has NEXT set / is nested / has a
// table length that is zero, not a multiple of 16 or above
// kMaxIndirectEntries entries, and a total length above
// limits.max_total_bytes. An indirect descriptor may end a direct chain
// (the spec allows it); its WRITE flag is ignored, as the spec requires.
absl::StatusOr<DescriptorChain> ParseDescriptorChain(const GuestMemory& memory,
                                                     Gpa desc_table,
                                                     uint16_t head,
                                                     const ChainLimits& limits);

// Copies bytes [offset, offset + out.size()) of the concatenated `segments`
// out of guest memory, or `data` into them. OutOfRange if the segments are
// shorter.
absl::Status ReadFromSegments(const GuestMemory& memory,
                              std::span<const BufferSegment> segments,
                              uint64_t offset, std::span<uint8_t> out);
absl::Status WriteToSegments(const GuestMemory& memory,
                             std::span<const BufferSegment> segments,
                             uint64_t offset, std::span<const uint8_t> data);

// Where the driver put a queue and what was negotiated for it.
struct VirtqueueConfig {
  uint16_t size = 0;  // a power of two, 1..32768
  Gpa desc_table;
  Gpa avail_ring;          // "driver area"
  Gpa used_ring;           // "device area"
  bool event_idx = false;  // VIRTIO_F_RING_EVENT_IDX negotiated
  bool indirect = false;   // VIRTIO_F_INDIRECT_DESC negotiated
  uint64_t max_chain_bytes = kDefaultMaxChainBytes;
};

class Virtqueue {
 public:
  // Checks the layout (size a power of two, each part aligned and wholly
  // inside guest RAM) and starts a queue at index 0 in both rings. `memory`
  // must outlive the queue.
  static absl::StatusOr<Virtqueue> Create(const GuestMemory& memory,
                                          const VirtqueueConfig& config);

  Virtqueue(Virtqueue&&) = default;
  Virtqueue& operator=(Virtqueue&&) = default;

  const VirtqueueConfig& config() const { return config_; }
  uint16_t size() const { return config_.size; }
  uint16_t last_avail_idx() const { return last_avail_idx_; }
  uint16_t used_idx() const { return used_idx_; }

  // The next chain the driver made available, or nullopt if there is none.
  // Errors (InvalidArgument) for a malformed chain or an available index
  // that claims more than `size` new entries; the queue is then unusable
  // and the device must be reset. With event-index on, publishes
  // avail_event so the driver notifies for the next new entry, and when the
  // ring looks empty re-reads it after doing so (no lost notification).
  absl::StatusOr<std::optional<DescriptorChain>> PopAvail();

  // Returns `head` (from a chain this queue popped) to the driver with
  // `written` bytes written into its writable buffers.
  void PushUsed(uint16_t head, uint32_t written);

  // After PushUsed: whether the driver wants an interrupt for the entries
  // added since the last call that returned true (used_event with
  // event-index, else the avail ring's NO_INTERRUPT flag).
  bool NeedsInterrupt();

  // Asks the driver to notify (true) or not (false) when it adds buffers: a
  // device that is busy draining the ring can save the guest the exits.
  // Enabling returns whether buffers arrived meanwhile, which the device
  // must then process (otherwise it could wait for a notification that was
  // suppressed).
  bool SetNotifications(bool enabled);

  // The queue's position: what save/restore and migration carry (the
  // layout is in config()). Also lets tests start near index wrap-around.
  struct State {
    uint16_t last_avail_idx = 0;
    uint16_t used_idx = 0;
    uint16_t signalled_used = 0;
    bool signalled_used_valid = false;
    bool notifications = true;
  };
  State SaveState() const;
  // Takes any State: every combination is one a driver can cause (it may
  // publish a head again before it is used, so last_avail_idx may run any
  // distance ahead of used_idx), and the rings are re-read and re-checked
  // on every use. Nothing to refuse, hence no Status.
  void RestoreState(const State& state);

 private:
  Virtqueue(const GuestMemory& memory, const VirtqueueConfig& config,
            std::span<uint8_t> avail, std::span<uint8_t> used);

  uint16_t ReadAvailIdx() const;
  uint16_t ReadAvailFlags() const;
  uint16_t ReadUsedEvent() const;
  void WriteAvailEvent(uint16_t value);
  void WriteUsedFlags(uint16_t value);

  const GuestMemory* memory_;
  VirtqueueConfig config_;
  // The ring parts, checked to lie inside guest RAM when the queue was
  // created (guest memory mappings never change afterwards).
  std::span<uint8_t> avail_;
  std::span<uint8_t> used_;
  uint16_t last_avail_idx_ = 0;
  uint16_t used_idx_ = 0;
  // used_idx_ when NeedsInterrupt last decided to interrupt (for
  // vring_need_event); invalid until the first decision.
  uint16_t signalled_used_ = 0;
  bool signalled_used_valid_ = false;
  bool notifications_ = true;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VIRTIO_VIRTQUEUE_H_
