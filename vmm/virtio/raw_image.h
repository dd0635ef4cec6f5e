// RawImage: a raw disk image file (`--disk PATH[,readonly]`), the storage
// behind a virtio-blk device. Byte-for-byte the guest's disk: no header, no
// format; the capacity is the file size, which must be a whole number of
// 512-byte sectors.
//
// Thread ownership: opened on the set-up thread, then used by one back-end
// worker thread (blk_backend.h). The methods are positional (pread/pwrite)
// and keep no state, so they are safe from any one thread at a time.
#ifndef FTVM_VMM_VIRTIO_RAW_IMAGE_H_
#define FTVM_VMM_VIRTIO_RAW_IMAGE_H_

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace ft::vmm {

class RawImage {
 public:
  static constexpr uint64_t kSectorSize = 512;

  struct Options {
    std::string path;
    bool read_only = false;
  };
  // Opens the image (O_CLOEXEC; read-write unless read_only). Errors say
  // what is wrong and what to do: missing file, no permission, not a
  // regular file, empty, size not a multiple of 512 bytes.
  static absl::StatusOr<RawImage> Open(const Options& options);

  RawImage(RawImage&&) = default;
  RawImage& operator=(RawImage&&) = default;

  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }
  uint64_t size_bytes() const { return size_bytes_; }
  uint64_t sectors() const { return size_bytes_ / kSectorSize; }

  // Whole transfers at byte `offset` (retrying short transfers and EINTR).
  // OutOfRange if the range passes the end of the image;
  // FailedPrecondition for a write to a read-only image; the errno
  // otherwise.
  absl::Status ReadAt(uint64_t offset, std::span<uint8_t> out) const;
  absl::Status WriteAt(uint64_t offset, std::span<const uint8_t> data) const;
  // fdatasync(2): every completed write is on stable storage when it
  // returns.
  absl::Status Flush() const;

 private:
  RawImage(UniqueFd fd, std::string path, bool read_only, uint64_t size)
      : fd_(std::move(fd)),
        path_(std::move(path)),
        read_only_(read_only),
        size_bytes_(size) {}
  absl::Status CheckRange(uint64_t offset, uint64_t len) const;

  UniqueFd fd_;
  std::string path_;
  bool read_only_ = false;
  uint64_t size_bytes_ = 0;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_VIRTIO_RAW_IMAGE_H_
