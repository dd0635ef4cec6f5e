// MappedRegion: an owned mmap(2) mapping, unmapped on destruction.
#ifndef FTVM_COMMON_MAPPED_REGION_H_
#define FTVM_COMMON_MAPPED_REGION_H_

#include <cstddef>
#include <cstdint>
#include <span>

#include "absl/status/statusor.h"

namespace ft {

class MappedRegion {
 public:
  struct AnonymousOptions {
    size_t size = 0;
    // MAP_NORESERVE: guest RAM is committed on first touch, like real hosts.
    bool no_reserve = true;
  };
  struct FileOptions {
    int fd = -1;
    size_t size = 0;
    off_t offset = 0;
    bool writable = false;
    bool shared = true;
  };

  // Private anonymous read/write memory, zero-filled.
  static absl::StatusOr<MappedRegion> Anonymous(const AnonymousOptions& opts);
  // A mapping of `fd` (e.g. the kvm_run area of a vCPU fd).
  static absl::StatusOr<MappedRegion> OfFile(const FileOptions& opts);

  MappedRegion() = default;
  ~MappedRegion();
  MappedRegion(MappedRegion&& other) noexcept;
  MappedRegion& operator=(MappedRegion&& other) noexcept;
  MappedRegion(const MappedRegion&) = delete;
  MappedRegion& operator=(const MappedRegion&) = delete;

  uint8_t* data() const { return static_cast<uint8_t*>(addr_); }
  size_t size() const { return size_; }
  std::span<uint8_t> bytes() const { return {data(), size_}; }
  bool valid() const { return addr_ != nullptr; }

 private:
  MappedRegion(void* addr, size_t size) : addr_(addr), size_(size) {}
  void Unmap();

  void* addr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ft

#endif  // FTVM_COMMON_MAPPED_REGION_H_
