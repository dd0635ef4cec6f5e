// The input format of the virtqueue fuzz target, shared with the seed
// generator (make_virtqueue_seeds.cc):
//
//   VirtqueueFuzzHeader | mmio_ops x MmioOp | guest RAM image (the rest)
//
// The RAM image is copied to guest physical address 0 of a small guest
// (kFuzzRam bytes; the remainder is zero), so descriptor tables, rings and
// buffers all come from the input.
#ifndef FTVM_TESTS_FUZZ_VIRTQUEUE_FUZZ_INPUT_H_
#define FTVM_TESTS_FUZZ_VIRTQUEUE_FUZZ_INPUT_H_

#include <cstdint>

namespace ft::vmm::fuzz {

inline constexpr uint64_t kFuzzRam = 64 * 1024;

// Flags.
inline constexpr uint8_t kFuzzEventIdx = 1;  // negotiate RING_EVENT_IDX
inline constexpr uint8_t kFuzzIndirect = 2;  // negotiate INDIRECT_DESC
// Use queue_size as given instead of rounding it to a power of two (so
// that the transport's refusal is reached too).
inline constexpr uint8_t kFuzzRawSize = 4;
// Read-only disk.
inline constexpr uint8_t kFuzzReadOnly = 8;

struct VirtqueueFuzzHeader {
  uint16_t queue_size;  // log2 in the low 4 bits unless kFuzzRawSize
  uint16_t head;        // for the direct parser run
  // Guest physical addresses of the three ring parts (taken modulo
  // 2 * kFuzzRam, so that half of them are outside RAM).
  uint32_t desc;
  uint32_t avail;
  uint32_t used;
  uint8_t flags;
  uint8_t rounds;    // notifies (and completion deliveries), at most 8
  uint8_t mmio_ops;  // MmioOp records that follow the header
  uint8_t reserved;
};
static_assert(sizeof(VirtqueueFuzzHeader) == 20);

// A register write into the device's window, after set-up and before the
// notifies.
#pragma pack(push, 1)
struct MmioOp {
  uint16_t offset;  // within the 0x200-byte window
  uint32_t value;
};
#pragma pack(pop)
static_assert(sizeof(MmioOp) == 6);

}  // namespace ft::vmm::fuzz

#endif  // FTVM_TESTS_FUZZ_VIRTQUEUE_FUZZ_INPUT_H_
