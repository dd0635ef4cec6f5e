#include "vmm/virtio/raw_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace ft::vmm {

namespace {

absl::Status OpenError(int err, const std::string& path, bool read_only) {
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(absl::StrCat(
          "disk image ", path,
          " does not exist (create one, e.g. truncate -s 64M ", path, ")"));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(absl::StrCat(
          "no permission to open disk image ", path,
          read_only ? " for reading"
                    : " for reading and writing (fix its permissions, or "
                      "attach it with ,readonly)"));
    case EROFS:
      return absl::PermissionDeniedError(
          absl::StrCat("disk image ", path,
                       " is on a read-only file system (attach it with "
                       ",readonly)"));
    case EISDIR:
      return absl::InvalidArgumentError(absl::StrCat(
          "disk image ", path, " is a directory, not a regular file"));
    default:
      return ErrnoStatus(err, absl::StrCat("opening disk image ", path));
  }
}

}  // namespace

absl::StatusOr<RawImage> RawImage::Open(const Options& options) {
  const std::string& path = options.path;
  if (path.empty()) {
    return absl::InvalidArgumentError("disk image path is empty");
  }
  // O_NONBLOCK so that opening a FIFO by mistake fails below instead of
  // hanging; it means nothing for regular files and is cleared anyway.
  const int flags = (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC |
                    O_NONBLOCK | O_NOCTTY;
  UniqueFd fd(::open(path.c_str(), flags));
  if (!fd) return OpenError(errno, path, options.read_only);

  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("stat of disk image ", path));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "disk image ", path,
        " is not a regular file (only raw image files are supported)"));
  }
  // Clears O_NONBLOCK (F_SETFL leaves the access mode alone).
  if (::fcntl(fd.get(), F_SETFL, 0) != 0) {
    return ErrnoStatus(errno, absl::StrCat("fcntl on disk image ", path));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "disk image ", path, " is empty (give it a size, e.g. truncate -s 64M ",
        path, ")"));
  }
  if (size % kSectorSize != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "disk image %s is %u bytes, not a multiple of the 512-byte sector "
        "(resize it, e.g. truncate -s %u %s)",
        path, size, (size / kSectorSize + 1) * kSectorSize, path));
  }
  return RawImage(std::move(fd), path, options.read_only, size);
}

absl::Status RawImage::CheckRange(uint64_t offset, uint64_t len) const {
  if (offset > size_bytes_ || len > size_bytes_ - offset) {
    return absl::OutOfRangeError(absl::StrFormat(
        "range [%u, +%u) is beyond the end of disk image %s (%u bytes)", offset,
        len, path_, size_bytes_));
  }
  return absl::OkStatus();
}

absl::Status RawImage::ReadAt(uint64_t offset, std::span<uint8_t> out) const {
  FT_RETURN_IF_ERROR(CheckRange(offset, out.size()));
  while (!out.empty()) {
    const ssize_t n =
        ::pread(fd_.get(), out.data(), out.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat("reading ", path_));
    if (n == 0) {
      // The file shrank under us (someone else truncated it).
      return absl::DataLossError(absl::StrFormat(
          "disk image %s ends at byte %u, before its size at open", path_,
          offset));
    }
    out = out.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status RawImage::WriteAt(uint64_t offset,
                               std::span<const uint8_t> data) const {
  if (read_only_) {
    return absl::FailedPreconditionError(
        absl::StrCat("disk image ", path_, " is read-only"));
  }
  FT_RETURN_IF_ERROR(CheckRange(offset, data.size()));
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(),
                               static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, absl::StrCat("writing ", path_));
    if (n == 0) {
      return absl::DataLossError(
          absl::StrCat("writing ", path_, ": no progress (disk full?)"));
    }
    data = data.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status RawImage::Flush() const {
  while (::fdatasync(fd_.get()) != 0) {
    if (errno != EINTR) {
      return ErrnoStatus(errno, absl::StrCat("fdatasync of ", path_));
    }
  }
  return absl::OkStatus();
}

}  // namespace ft::vmm
