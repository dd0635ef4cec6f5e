// Constants of the virtio 1.x specification (OASIS virtio v1.1/v1.2) that
// ftvm's transport, queues and devices use: device status bits, feature bits,
// the virtio-mmio register map, split-ring layout and flags, and virtio-blk's
// request types and status codes. Values only; no behaviour.
//
// Everything the guest sees is little-endian, as is the host (x86-64), so
// fields are read and written in host order.
#ifndef FTVM_VMM_VIRTIO_VIRTIO_SPEC_H_
#define FTVM_VMM_VIRTIO_VIRTIO_SPEC_H_

#include <cstdint>

namespace ft::vmm::virtio {

// Device status (2.1).
inline constexpr uint32_t kStatusAcknowledge = 1;
inline constexpr uint32_t kStatusDriver = 2;
inline constexpr uint32_t kStatusDriverOk = 4;
inline constexpr uint32_t kStatusFeaturesOk = 8;
inline constexpr uint32_t kStatusNeedsReset = 0x40;
inline constexpr uint32_t kStatusFailed = 0x80;

// Transport-level feature bits (6).
inline constexpr int kFeatureIndirectDesc = 28;
inline constexpr int kFeatureRingEventIdx = 29;
inline constexpr int kFeatureVersion1 = 32;

inline constexpr uint64_t FeatureBit(int bit) { return uint64_t{1} << bit; }

// Device types (5).
inline constexpr uint32_t kDeviceIdNet = 1;
inline constexpr uint32_t kDeviceIdBlock = 2;

// virtio-mmio registers (4.2.2), offsets into the device's window.
namespace mmio {
inline constexpr uint64_t kWindowSize = 0x200;
inline constexpr uint32_t kMagic = 0x74726976;  // "virt"
inline constexpr uint32_t kVersionModern = 2;
// "ftvm" read little-endian; drivers do not interpret the vendor id.
inline constexpr uint32_t kVendorId = 0x6d767466;

inline constexpr uint64_t kMagicValue = 0x000;
inline constexpr uint64_t kVersion = 0x004;
inline constexpr uint64_t kDeviceId = 0x008;
inline constexpr uint64_t kVendor = 0x00c;
inline constexpr uint64_t kDeviceFeatures = 0x010;
inline constexpr uint64_t kDeviceFeaturesSel = 0x014;
inline constexpr uint64_t kDriverFeatures = 0x020;
inline constexpr uint64_t kDriverFeaturesSel = 0x024;
inline constexpr uint64_t kQueueSel = 0x030;
inline constexpr uint64_t kQueueNumMax = 0x034;
inline constexpr uint64_t kQueueNum = 0x038;
inline constexpr uint64_t kQueueReady = 0x044;
inline constexpr uint64_t kQueueNotify = 0x050;
inline constexpr uint64_t kInterruptStatus = 0x060;
inline constexpr uint64_t kInterruptAck = 0x064;
inline constexpr uint64_t kStatus = 0x070;
inline constexpr uint64_t kQueueDescLow = 0x080;
inline constexpr uint64_t kQueueDescHigh = 0x084;
inline constexpr uint64_t kQueueDriverLow = 0x090;
inline constexpr uint64_t kQueueDriverHigh = 0x094;
inline constexpr uint64_t kQueueDeviceLow = 0x0a0;
inline constexpr uint64_t kQueueDeviceHigh = 0x0a4;
inline constexpr uint64_t kConfigGeneration = 0x0fc;
inline constexpr uint64_t kConfig = 0x100;

// InterruptStatus bits.
inline constexpr uint32_t kInterruptUsedBuffer = 1;
inline constexpr uint32_t kInterruptConfigChange = 2;
}  // namespace mmio

// Split virtqueues (2.7).
inline constexpr uint32_t kMaxQueueSize = 32768;
inline constexpr uint64_t kDescSize = 16;
inline constexpr uint16_t kDescFlagNext = 1;
inline constexpr uint16_t kDescFlagWrite = 2;
inline constexpr uint16_t kDescFlagIndirect = 4;
inline constexpr uint16_t kAvailFlagNoInterrupt = 1;
inline constexpr uint16_t kUsedFlagNoNotify = 1;
// Alignment of the three ring parts (2.7, table "Virtqueue Part Alignment").
inline constexpr uint64_t kDescAlign = 16;
inline constexpr uint64_t kAvailAlign = 2;
inline constexpr uint64_t kUsedAlign = 4;

// One descriptor as the guest lays it out.
struct VirtqDesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
static_assert(sizeof(VirtqDesc) == kDescSize);

struct VirtqUsedElem {
  uint32_t id;
  uint32_t len;
};
static_assert(sizeof(VirtqUsedElem) == 8);

// Ring part sizes for a queue of `n` entries, event-index fields included
// (the 1.x layout always reserves them).
inline constexpr uint64_t DescTableBytes(uint64_t n) { return kDescSize * n; }
inline constexpr uint64_t AvailRingBytes(uint64_t n) { return 6 + 2 * n; }
inline constexpr uint64_t UsedRingBytes(uint64_t n) { return 6 + 8 * n; }

// The spec's vring_need_event(): true if moving the index from `old_idx` to
// `new_idx` passed `event_idx` (all modulo 2^16).
inline constexpr bool NeedEvent(uint16_t event_idx, uint16_t new_idx,
                                uint16_t old_idx) {
  return static_cast<uint16_t>(new_idx - event_idx - 1) <
         static_cast<uint16_t>(new_idx - old_idx);
}

// virtio-blk (5.2).
namespace blk {
inline constexpr int kFeatureSizeMax = 1;
inline constexpr int kFeatureSegMax = 2;
inline constexpr int kFeatureRo = 5;
inline constexpr int kFeatureBlkSize = 6;
inline constexpr int kFeatureFlush = 9;

inline constexpr uint32_t kTypeIn = 0;
inline constexpr uint32_t kTypeOut = 1;
inline constexpr uint32_t kTypeFlush = 4;
inline constexpr uint32_t kTypeGetId = 8;

inline constexpr uint8_t kStatusOk = 0;
inline constexpr uint8_t kStatusIoErr = 1;
inline constexpr uint8_t kStatusUnsupported = 2;

inline constexpr uint64_t kSectorSize = 512;
inline constexpr uint64_t kIdBytes = 20;

// The request header the driver puts first in every chain.
struct RequestHeader {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
};
static_assert(sizeof(RequestHeader) == 16);
}  // namespace blk

// virtio-net (5.1).
namespace net {
inline constexpr int kFeatureMac = 5;
inline constexpr int kFeatureStatus = 16;

inline constexpr uint16_t kStatusLinkUp = 1;

inline constexpr uint16_t kRxQueue = 0;
inline constexpr uint16_t kTxQueue = 1;

// struct virtio_net_hdr with VIRTIO_F_VERSION_1: num_buffers is always
// present (5.1.6), and is 1 when VIRTIO_NET_F_MRG_RXBUF is not negotiated.
struct Header {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
  uint16_t num_buffers;
};
static_assert(sizeof(Header) == 12);
}  // namespace net

}  // namespace ft::vmm::virtio

#endif  // FTVM_VMM_VIRTIO_VIRTIO_SPEC_H_
