#include "common/unique_fd.h"

#include <unistd.h>

namespace ft {

void UniqueFd::Reset(int fd) {
  // Resetting to the descriptor already owned must not close it (the object
  // would keep a dead number that a later close could take from someone
  // else).
  if (fd == fd_) return;
  if (fd_ >= 0) {
    // close(2) releases the descriptor even when it reports EINTR on Linux,
    // so retrying would close an unrelated, reused descriptor.
    ::close(fd_);
  }
  fd_ = fd;
}

}  // namespace ft
