// GuestMemory: the guest's RAM as host mappings at guest physical ranges.
//
// All VMM access to guest memory goes through Slice(), the one bounds-checked
// accessor: an access must lie wholly inside one RAM region, and the check is
// written so that gpa + len can never wrap. Guest-controlled addresses
// (descriptors, boot structures) reach memory only through it.
//
// Layout: RAM from 0 up to the 32-bit MMIO hole (kLowRamEnd); any RAM beyond
// that starts at 4 GiB, as on a PC.
//
// Thread ownership: created by the VM's owner; after construction the
// mappings never change, so Slice() may be called from any thread. The bytes
// themselves are shared with the running guest.
#ifndef FTVM_VMM_MEMORY_GUEST_MEMORY_H_
#define FTVM_VMM_MEMORY_GUEST_MEMORY_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mapped_region.h"
#include "common/strong_types.h"

namespace ft::vmm {

class GuestMemory {
 public:
  // Start of the 32-bit MMIO hole (devices, LAPIC/IOAPIC, firmware).
  static constexpr uint64_t kLowRamEnd = 0xC000'0000;
  static constexpr uint64_t kHighRamStart = 0x1'0000'0000;
  static constexpr uint64_t kPageSize = 4096;
  // Large enough for any guest this project runs; catches typos (--mem 4T).
  static constexpr uint64_t kMaxSize = 1ull << 40;

  struct Region {
    Gpa base;
    MappedRegion mapping;

    uint64_t size() const { return mapping.size(); }
    // One past the last byte; cannot overflow (regions are < 2^41).
    uint64_t end() const { return base.value() + size(); }
  };

  struct Options {
    uint64_t size = 0;  // bytes of RAM, a multiple of kPageSize
  };
  static absl::StatusOr<GuestMemory> Create(const Options& options);

  GuestMemory(GuestMemory&&) = default;
  GuestMemory& operator=(GuestMemory&&) = default;

  uint64_t size() const { return total_size_; }
  const std::vector<Region>& regions() const { return regions_; }

  // The host bytes of guest range [gpa, gpa + len). Fails (OutOfRange) if any
  // byte of the range is not RAM. len == 0 is valid at any RAM address and at
  // a region's end.
  absl::StatusOr<std::span<uint8_t>> Slice(Gpa gpa, uint64_t len) const;

  // Convenience wrappers over Slice().
  absl::Status Read(Gpa gpa, std::span<uint8_t> out) const;
  absl::Status Write(Gpa gpa, std::span<const uint8_t> data) const;
  absl::Status Fill(Gpa gpa, uint64_t len, uint8_t value) const;

  template <typename T>
  absl::StatusOr<T> ReadObject(Gpa gpa) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    absl::Status status = Read(
        gpa, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof(T)));
    if (!status.ok()) return status;
    return value;
  }
  template <typename T>
  absl::Status WriteObject(Gpa gpa, const T& value) const {
    static_assert(std::is_trivially_copyable_v<T>);
    return Write(gpa, std::span<const uint8_t>(
                          reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
  }

 private:
  explicit GuestMemory(std::vector<Region> regions);

  std::vector<Region> regions_;
  uint64_t total_size_ = 0;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_MEMORY_GUEST_MEMORY_H_
