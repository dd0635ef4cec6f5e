#include "replay/byte_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_format.h"
#include "common/status.h"

namespace ft::replay {
namespace {

class FileSink : public ByteSink {
 public:
  FileSink(std::string path, UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}

  absl::Status Write(std::span<const uint8_t> bytes) override {
    if (!fd_.valid()) {
      return absl::FailedPreconditionError(
          absl::StrFormat("log %s is closed", path_));
    }
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, absl::StrFormat("writing log %s", path_));
      }
      bytes = bytes.subspan(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }
  absl::Status Sync() override {
    if (fd_.valid() && ::fdatasync(fd_.get()) != 0) {
      return ErrnoStatus(errno, absl::StrFormat("syncing log %s", path_));
    }
    return absl::OkStatus();
  }
  absl::Status Close() override {
    if (fd_.valid() && ::close(fd_.Release()) != 0) {
      return ErrnoStatus(errno, absl::StrFormat("closing log %s", path_));
    }
    return absl::OkStatus();
  }
  std::string Describe() const override {
    return absl::StrFormat("log %s", path_);
  }

 private:
  std::string path_;
  UniqueFd fd_;
};

class FileSource : public ByteSource {
 public:
  FileSource(std::string path, UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}

  absl::StatusOr<size_t> Read(std::span<uint8_t> buf) override {
    while (true) {
      const ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) {
        return ErrnoStatus(errno, absl::StrFormat("reading log %s", path_));
      }
    }
  }
  std::string Describe() const override {
    return absl::StrFormat("log %s", path_);
  }

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ByteSink>> CreateFileSink(
    const std::string& path, bool overwrite) {
  const int flags =
      O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  UniqueFd fd(::open(path.c_str(), flags, 0644));
  if (!fd.valid()) {
    return ErrnoStatus(
        errno, absl::StrFormat(
                   "creating log %s%s", path,
                   errno == EEXIST ? " (it exists; remove it first)" : ""));
  }
  return std::make_unique<FileSink>(path, std::move(fd));
}

absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(
    const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(errno, absl::StrFormat("opening log %s", path));
  }
  return std::make_unique<FileSource>(path, std::move(fd));
}

}  // namespace ft::replay
