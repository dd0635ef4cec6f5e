#include "common/mapped_region.h"

#include <sys/mman.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ft {

absl::StatusOr<MappedRegion> MappedRegion::Anonymous(
    const AnonymousOptions& opts) {
  if (opts.size == 0) {
    return absl::InvalidArgumentError("cannot map an empty region");
  }
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (opts.no_reserve) flags |= MAP_NORESERVE;
  void* addr = ::mmap(nullptr, opts.size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (addr == MAP_FAILED) {
    return ErrnoStatus(errno,
                       absl::StrCat("mmap of ", opts.size, " bytes of memory"));
  }
  return MappedRegion(addr, opts.size);
}

absl::StatusOr<MappedRegion> MappedRegion::OfFile(const FileOptions& opts) {
  if (opts.size == 0) {
    return absl::InvalidArgumentError("cannot map an empty region");
  }
  if (opts.fd < 0) return absl::InvalidArgumentError("mapping a closed fd");
  int prot = PROT_READ | (opts.writable ? PROT_WRITE : 0);
  int flags = opts.shared ? MAP_SHARED : MAP_PRIVATE;
  void* addr = ::mmap(nullptr, opts.size, prot, flags, opts.fd, opts.offset);
  if (addr == MAP_FAILED) {
    return ErrnoStatus(
        errno, absl::StrCat("mmap of ", opts.size, " bytes of fd ", opts.fd));
  }
  return MappedRegion(addr, opts.size);
}

MappedRegion::~MappedRegion() { Unmap(); }

MappedRegion::MappedRegion(MappedRegion&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedRegion& MappedRegion::operator=(MappedRegion&& other) noexcept {
  if (this != &other) {
    Unmap();
    addr_ = std::exchange(other.addr_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void MappedRegion::Unmap() {
  if (addr_ != nullptr) ::munmap(addr_, size_);
  addr_ = nullptr;
  size_ = 0;
}

}  // namespace ft
