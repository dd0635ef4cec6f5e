#include "vmm/memory/guest_memory.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace ft::vmm {

absl::StatusOr<GuestMemory> GuestMemory::Create(const Options& options) {
  if (options.size == 0 || options.size % kPageSize != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "guest memory size ", options.size,
        " must be a non-zero multiple of 4 KiB (e.g. --mem 256M)"));
  }
  if (options.size > kMaxSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("guest memory size ", options.size,
                     " is larger than the supported maximum of 1 TiB"));
  }
  std::vector<Region> regions;
  uint64_t low = std::min(options.size, kLowRamEnd);
  FT_ASSIGN_OR_RETURN(MappedRegion low_map,
                      MappedRegion::Anonymous({.size = low}));
  regions.push_back(Region{Gpa(0), std::move(low_map)});
  if (options.size > low) {
    FT_ASSIGN_OR_RETURN(MappedRegion high_map,
                        MappedRegion::Anonymous({.size = options.size - low}));
    regions.push_back(Region{Gpa(kHighRamStart), std::move(high_map)});
  }
  return GuestMemory(std::move(regions));
}

GuestMemory::GuestMemory(std::vector<Region> regions)
    : regions_(std::move(regions)) {
  for (const Region& r : regions_) total_size_ += r.size();
}

absl::StatusOr<std::span<uint8_t>> GuestMemory::Slice(Gpa gpa,
                                                      uint64_t len) const {
  const uint64_t addr = gpa.value();
  for (const Region& r : regions_) {
    if (addr < r.base.value() || addr > r.end()) continue;
    const uint64_t offset = addr - r.base.value();
    // Compare against the room left instead of computing addr + len, which
    // could wrap for a hostile len.
    if (len > r.size() - offset) break;
    return std::span<uint8_t>(r.mapping.data() + offset, len);
  }
  return absl::OutOfRangeError(absl::StrFormat(
      "guest physical range [0x%x, +0x%x) is not inside guest RAM", addr, len));
}

absl::Status GuestMemory::Read(Gpa gpa, std::span<uint8_t> out) const {
  FT_ASSIGN_OR_RETURN(std::span<uint8_t> src, Slice(gpa, out.size()));
  std::memcpy(out.data(), src.data(), out.size());
  return absl::OkStatus();
}

absl::Status GuestMemory::Write(Gpa gpa, std::span<const uint8_t> data) const {
  FT_ASSIGN_OR_RETURN(std::span<uint8_t> dst, Slice(gpa, data.size()));
  std::memcpy(dst.data(), data.data(), data.size());
  return absl::OkStatus();
}

absl::Status GuestMemory::Fill(Gpa gpa, uint64_t len, uint8_t value) const {
  FT_ASSIGN_OR_RETURN(std::span<uint8_t> dst, Slice(gpa, len));
  std::memset(dst.data(), value, dst.size());
  return absl::OkStatus();
}

}  // namespace ft::vmm
