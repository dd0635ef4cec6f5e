#include "vmm/io/io_bus.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_format.h"
#include "common/log.h"

namespace ft::vmm {

absl::Status IoBus::Register(IoSpace space, uint64_t base, uint64_t length,
                             IoDevice* device) {
  const char* space_name = space == IoSpace::kPio ? "port" : "MMIO";
  if (length == 0 || length - 1 > UINT64_MAX - base) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s range at 0x%x of length 0x%x is empty or wraps",
                        space_name, base, length));
  }
  // Written so that base + length cannot wrap past the check.
  if (space == IoSpace::kPio && (base > 0xffff || length > 0x10000 - base)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "port range [0x%x, +0x%x) is beyond port 0xffff", base, length));
  }
  absl::MutexLock lock(&mu_);
  auto& claims = Claims(space);
  auto next = claims.lower_bound(base);
  if (next != claims.end() && next->first - base < length) {
    return absl::AlreadyExistsError(absl::StrFormat(
        "%s range [0x%x, +0x%x) for %s overlaps %s", space_name, base, length,
        device->name(), next->second.device->name()));
  }
  if (next != claims.begin()) {
    auto prev = std::prev(next);
    if (base - prev->first < prev->second.length) {
      return absl::AlreadyExistsError(absl::StrFormat(
          "%s range [0x%x, +0x%x) for %s overlaps %s", space_name, base, length,
          device->name(), prev->second.device->name()));
    }
  }
  claims.emplace(base, Claim{length, device});
  return absl::OkStatus();
}

void IoBus::Dispatch(IoSpace space, uint64_t address, bool is_write,
                     std::span<uint8_t> data) {
  absl::MutexLock lock(&mu_);
  ++stats_.accesses;
  auto& claims = Claims(space);
  auto it = claims.upper_bound(address);
  if (it != claims.begin()) {
    --it;
    const uint64_t offset = address - it->first;
    // The whole access must fall inside the claim.
    if (offset < it->second.length &&
        data.size() <= it->second.length - offset) {
      it->second.device->Access(IoAccess{.space = space,
                                         .address = address,
                                         .offset = offset,
                                         .is_write = is_write,
                                         .data = data});
      return;
    }
  }
  ++stats_.unclaimed;
  FT_LOG(kDebug) << absl::StrFormat("unclaimed %s %s at 0x%x size %u",
                                    space == IoSpace::kPio ? "port" : "MMIO",
                                    is_write ? "write" : "read", address,
                                    data.size());
  if (!is_write) std::fill(data.begin(), data.end(), 0xff);
}

void IoBus::HandlePio(const PioExit& exit) {
  for (uint32_t i = 0; i < exit.count; ++i) {
    Dispatch(IoSpace::kPio, exit.port, exit.is_write,
             exit.data.subspan(size_t{i} * exit.size, exit.size));
  }
}

void IoBus::HandleMmio(const MmioExit& exit) {
  Dispatch(IoSpace::kMmio, exit.address.value(), exit.is_write, exit.data);
}

IoBus::Stats IoBus::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace ft::vmm
