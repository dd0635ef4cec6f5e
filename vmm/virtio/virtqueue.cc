#include "vmm/virtio/virtqueue.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/status.h"
#include "vmm/virtio/virtio_spec.h"

namespace ft::vmm {

namespace {

using virtio::VirtqDesc;

absl::Status BadChain(uint16_t head, const std::string& what) {
  return absl::InvalidArgumentError(
      absl::StrFormat("descriptor chain at head %u: %s", head, what));
}

// Accumulates buffers into a chain, enforcing the per-buffer rules.
class ChainBuilder {
 public:
  ChainBuilder(const GuestMemory& memory, const ChainLimits& limits,
               uint16_t head)
      : memory_(memory), limits_(limits) {
    chain_.head = head;
  }

  absl::Status Add(const VirtqDesc& d) {
    // The buffer must be RAM; Slice's check cannot wrap for any addr + len.
    if (!memory_.Slice(Gpa(d.addr), d.len).ok()) {
      return Bad(absl::StrFormat("buffer [0x%x, +0x%x) is not inside guest RAM",
                                 d.addr, d.len));
    }
    const uint64_t total = chain_.readable_bytes + chain_.writable_bytes;
    if (d.len > limits_.max_total_bytes - total) {
      return Bad(absl::StrFormat("buffers add up to more than %u bytes",
                                 limits_.max_total_bytes));
    }
    const BufferSegment segment{Gpa(d.addr), d.len};
    if ((d.flags & virtio::kDescFlagWrite) != 0) {
      chain_.writable.push_back(segment);
      chain_.writable_bytes += d.len;
    } else {
      // 2.7.4.2: device-readable buffers come before device-writable ones.
      if (!chain_.writable.empty()) {
        return Bad("device-readable buffer after a device-writable one");
      }
      chain_.readable.push_back(segment);
      chain_.readable_bytes += d.len;
    }
    return absl::OkStatus();
  }

  absl::Status Bad(const std::string& what) const {
    return BadChain(chain_.head, what);
  }
  DescriptorChain Take() { return std::move(chain_); }

 private:
  const GuestMemory& memory_;
  const ChainLimits& limits_;
  DescriptorChain chain_;
};

// Walks the indirect table `d` points to. The table is copied out of guest
// memory in one piece first, so the guest cannot change it under the walk.
absl::Status WalkIndirect(const GuestMemory& memory, const VirtqDesc& d,
                          ChainBuilder& builder) {
  if (d.len == 0 || d.len % virtio::kDescSize != 0) {
    return builder.Bad(absl::StrFormat(
        "indirect table length %u is not a non-zero multiple of 16", d.len));
  }
  const uint32_t entries = d.len / virtio::kDescSize;
  if (entries > kMaxIndirectEntries) {
    return builder.Bad(absl::StrFormat("indirect table has %u entries (max %u)",
                                       entries, kMaxIndirectEntries));
  }
  absl::StatusOr<std::span<uint8_t>> bytes = memory.Slice(Gpa(d.addr), d.len);
  if (!bytes.ok()) {
    return builder.Bad(absl::StrFormat(
        "indirect table [0x%x, +0x%x) is not inside guest RAM", d.addr, d.len));
  }
  std::vector<VirtqDesc> table(entries);
  std::memcpy(table.data(), bytes->data(), d.len);

  uint32_t index = 0;
  // Each entry is visited at most once in a loop-free chain.
  for (uint32_t visited = 1;; ++visited) {
    if (visited > entries) {
      return builder.Bad("indirect chain loops or is longer than its table");
    }
    const VirtqDesc& e = table[index];
    if ((e.flags & virtio::kDescFlagIndirect) != 0) {
      return builder.Bad("indirect descriptor inside an indirect table");
    }
    FT_RETURN_IF_ERROR(builder.Add(e));
    if ((e.flags & virtio::kDescFlagNext) == 0) return absl::OkStatus();
    if (e.next >= entries) {
      return builder.Bad(
          absl::StrFormat("indirect next index %u is out of range (%u entries)",
                          e.next, entries));
    }
    index = e.next;
  }
}

uint16_t Load16(std::span<const uint8_t> ring, uint64_t offset) {
  uint16_t value;
  std::memcpy(&value, ring.data() + offset, sizeof(value));
  return value;
}

void Store16(std::span<uint8_t> ring, uint64_t offset, uint16_t value) {
  std::memcpy(ring.data() + offset, &value, sizeof(value));
}

bool IsPowerOfTwo(uint32_t n) { return n != 0 && (n & (n - 1)) == 0; }

}  // namespace

absl::StatusOr<DescriptorChain> ParseDescriptorChain(
    const GuestMemory& memory, Gpa desc_table, uint16_t head,
    const ChainLimits& limits) {
  if (head >= limits.queue_size) {
    return BadChain(head, absl::StrFormat("head index is out of range (queue "
                                          "size %u)",
                                          limits.queue_size));
  }
  ChainBuilder builder(memory, limits, head);
  uint16_t index = head;
  for (uint32_t visited = 1;; ++visited) {
    if (visited > limits.queue_size) {
      return builder.Bad("chain loops or is longer than the queue");
    }
    // Copied once; only the copy is looked at from here on.
    VirtqDesc d;
    std::optional<Gpa> at = desc_table.Offset(uint64_t{index} * sizeof(d));
    absl::StatusOr<std::span<uint8_t>> bytes =
        at ? memory.Slice(*at, sizeof(d))
           : absl::OutOfRangeError("descriptor address wraps");
    if (!bytes.ok()) {
      return builder.Bad(
          absl::StrFormat("descriptor %u is not inside guest RAM: %s", index,
                          bytes.status().message()));
    }
    std::memcpy(&d, bytes->data(), sizeof(d));

    if ((d.flags & virtio::kDescFlagIndirect) != 0) {
      if (!limits.indirect_allowed) {
        return builder.Bad(
            "indirect descriptor, but VIRTIO_F_INDIRECT_DESC "
            "was not negotiated");
      }
      if ((d.flags & virtio::kDescFlagNext) != 0) {
        return builder.Bad("indirect descriptor with NEXT set");
      }
      FT_RETURN_IF_ERROR(WalkIndirect(memory, d, builder));
      return builder.Take();
    }
    FT_RETURN_IF_ERROR(builder.Add(d));
    if ((d.flags & virtio::kDescFlagNext) == 0) return builder.Take();
    if (d.next >= limits.queue_size) {
      return builder.Bad(
          absl::StrFormat("next index %u is out of range (queue size %u)",
                          d.next, limits.queue_size));
    }
    index = d.next;
  }
}

absl::Status ReadFromSegments(const GuestMemory& memory,
                              std::span<const BufferSegment> segments,
                              uint64_t offset, std::span<uint8_t> out) {
  for (const BufferSegment& s : segments) {
    if (out.empty()) break;
    if (offset >= s.len) {
      offset -= s.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(s.len - offset, out.size());
    FT_ASSIGN_OR_RETURN(std::span<uint8_t> src,
                        memory.Slice(Gpa(s.addr.value() + offset), n));
    std::memcpy(out.data(), src.data(), n);
    out = out.subspan(n);
    offset = 0;
  }
  if (!out.empty()) return absl::OutOfRangeError("buffers are too short");
  return absl::OkStatus();
}

absl::Status WriteToSegments(const GuestMemory& memory,
                             std::span<const BufferSegment> segments,
                             uint64_t offset, std::span<const uint8_t> data) {
  for (const BufferSegment& s : segments) {
    if (data.empty()) break;
    if (offset >= s.len) {
      offset -= s.len;
      continue;
    }
    const uint64_t n = std::min<uint64_t>(s.len - offset, data.size());
    FT_ASSIGN_OR_RETURN(std::span<uint8_t> dst,
                        memory.Slice(Gpa(s.addr.value() + offset), n));
    std::memcpy(dst.data(), data.data(), n);
    data = data.subspan(n);
    offset = 0;
  }
  if (!data.empty()) return absl::OutOfRangeError("buffers are too short");
  return absl::OkStatus();
}

absl::StatusOr<Virtqueue> Virtqueue::Create(const GuestMemory& memory,
                                            const VirtqueueConfig& config) {
  const uint32_t n = config.size;
  if (!IsPowerOfTwo(n) || n > virtio::kMaxQueueSize) {
    return absl::InvalidArgumentError(
        absl::StrFormat("queue size %u is not a power of two in 1..32768", n));
  }
  struct Part {
    const char* name;
    Gpa at;
    uint64_t align;
    uint64_t bytes;
  };
  const Part parts[] = {
      {"descriptor table", config.desc_table, virtio::kDescAlign,
       virtio::DescTableBytes(n)},
      {"available ring", config.avail_ring, virtio::kAvailAlign,
       virtio::AvailRingBytes(n)},
      {"used ring", config.used_ring, virtio::kUsedAlign,
       virtio::UsedRingBytes(n)},
  };
  std::span<uint8_t> spans[3];
  for (int i = 0; i < 3; ++i) {
    const Part& p = parts[i];
    if (p.at.value() % p.align != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s at 0x%x is not %u-byte aligned", p.name, p.at.value(), p.align));
    }
    absl::StatusOr<std::span<uint8_t>> s = memory.Slice(p.at, p.bytes);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s [0x%x, +0x%x) is not inside guest RAM", p.name,
                          p.at.value(), p.bytes));
    }
    spans[i] = *s;
  }
  return Virtqueue(memory, config, spans[1], spans[2]);
}

Virtqueue::Virtqueue(const GuestMemory& memory, const VirtqueueConfig& config,
                     std::span<uint8_t> avail, std::span<uint8_t> used)
    : memory_(&memory), config_(config), avail_(avail), used_(used) {}

// Ring fields are read with plain copies plus fences: the other side is a
// guest vCPU, and these are the barriers the spec asks of a device (read the
// index before the entries it covers; publish entries before the index).
uint16_t Virtqueue::ReadAvailFlags() const { return Load16(avail_, 0); }
uint16_t Virtqueue::ReadAvailIdx() const { return Load16(avail_, 2); }
uint16_t Virtqueue::ReadUsedEvent() const {
  return Load16(avail_, 4 + 2 * uint64_t{config_.size});
}
void Virtqueue::WriteAvailEvent(uint16_t value) {
  Store16(used_, 4 + 8 * uint64_t{config_.size}, value);
}
void Virtqueue::WriteUsedFlags(uint16_t value) { Store16(used_, 0, value); }

absl::StatusOr<std::optional<DescriptorChain>> Virtqueue::PopAvail() {
  uint16_t avail_idx = ReadAvailIdx();
  if (avail_idx == last_avail_idx_ && config_.event_idx && notifications_) {
    // Looks empty: ask for a notification at the next entry, then look again
    // in case the driver added one before it could see the request.
    WriteAvailEvent(last_avail_idx_);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    avail_idx = ReadAvailIdx();
  }
  const uint16_t pending = avail_idx - last_avail_idx_;
  if (pending == 0) return std::nullopt;
  if (pending > config_.size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "available index %u is %u entries ahead of the device's %u (queue "
        "size %u)",
        avail_idx, pending, last_avail_idx_, config_.size));
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  // size is a power of two, so the slot is right across index wrap-around.
  const uint16_t slot = last_avail_idx_ % config_.size;
  const uint16_t head = Load16(avail_, 4 + 2 * uint64_t{slot});
  ++last_avail_idx_;
  FT_ASSIGN_OR_RETURN(
      DescriptorChain chain,
      ParseDescriptorChain(
          *memory_, config_.desc_table, head,
          ChainLimits{.queue_size = config_.size,
                      .indirect_allowed = config_.indirect,
                      .max_total_bytes = config_.max_chain_bytes}));
  return chain;
}

void Virtqueue::PushUsed(uint16_t head, uint32_t written) {
  // Heads come from chains this queue parsed, so they are in range.
  FT_CHECK(head < config_.size)
      << "used head " << head << " of queue size " << config_.size;
  const uint16_t slot = used_idx_ % config_.size;
  const virtio::VirtqUsedElem elem{head, written};
  std::memcpy(used_.data() + 4 + sizeof(elem) * uint64_t{slot}, &elem,
              sizeof(elem));
  ++used_idx_;
  std::atomic_thread_fence(std::memory_order_release);
  Store16(used_, 2, used_idx_);
}

bool Virtqueue::NeedsInterrupt() {
  // The used index was stored before this; the driver's used_event (or
  // flags) must be read after it (a store-load order, hence a full fence).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const uint16_t old = signalled_used_;
  const bool valid = signalled_used_valid_;
  if (valid && old == used_idx_) return false;  // nothing new to report
  signalled_used_ = used_idx_;
  signalled_used_valid_ = true;
  if (!config_.event_idx) {
    return (ReadAvailFlags() & virtio::kAvailFlagNoInterrupt) == 0;
  }
  return !valid || virtio::NeedEvent(ReadUsedEvent(), used_idx_, old);
}

bool Virtqueue::SetNotifications(bool enabled) {
  notifications_ = enabled;
  if (!config_.event_idx) {
    WriteUsedFlags(enabled ? 0 : virtio::kUsedFlagNoNotify);
  } else if (enabled) {
    WriteAvailEvent(last_avail_idx_);
  }
  if (!enabled) return false;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return ReadAvailIdx() != last_avail_idx_;
}

Virtqueue::State Virtqueue::SaveState() const {
  return State{.last_avail_idx = last_avail_idx_,
               .used_idx = used_idx_,
               .signalled_used = signalled_used_,
               .signalled_used_valid = signalled_used_valid_,
               .notifications = notifications_};
}

void Virtqueue::RestoreState(const State& state) {
  last_avail_idx_ = state.last_avail_idx;
  used_idx_ = state.used_idx;
  signalled_used_ = state.signalled_used;
  signalled_used_valid_ = state.signalled_used_valid;
  notifications_ = state.notifications;
}

}  // namespace ft::vmm
