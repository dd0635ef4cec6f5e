#include "vmm/backends/tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status.h"

namespace ft::vmm {

absl::StatusOr<Tap> Tap::Open(const Options& options) {
  if (options.name.empty() || options.name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(
        absl::StrCat("TAP name '", options.name, "' must be 1 to ",
                     IFNAMSIZ - 1, " characters"));
  }
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {
      return absl::NotFoundError(
          "/dev/net/tun does not exist: load the 'tun' kernel module");
    }
    return ErrnoStatus(errno, "opening /dev/net/tun");
  }
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, options.name.data(), options.name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) {
    const int err = errno;
    if (err == EPERM) {
      return absl::PermissionDeniedError(absl::StrCat(
          "attaching TAP '", options.name,
          "': permission denied (run as root, or create it for this user "
          "with 'ip tuntap add dev ",
          options.name, " mode tap user USER')"));
    }
    if (err == EBUSY || err == EINVAL) {
      return absl::FailedPreconditionError(absl::StrCat(
          "attaching TAP '", options.name,
          "': the name is in use by another device, or by a TAP that is "
          "already attached (one VM per TAP)"));
    }
    return ErrnoStatus(err, absl::StrCat("TUNSETIFF ", options.name));
  }
  return Tap(std::move(fd), ifr.ifr_name);
}

absl::StatusOr<size_t> Tap::Read(std::span<uint8_t> buf) {
  while (true) {
    ssize_t n = ::read(fd(), buf.data(), buf.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return 0;
    return ErrnoStatus(errno, absl::StrCat("reading TAP ", name_));
  }
}

absl::Status Tap::Write(std::span<const uint8_t> frame) {
  while (true) {
    ssize_t n = ::write(fd(), frame.data(), frame.size());
    if (n >= 0) return absl::OkStatus();
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      return absl::ResourceExhaustedError(
          absl::StrCat("TAP ", name_, " queue full: frame dropped"));
    }
    return ErrnoStatus(errno, absl::StrCat("writing TAP ", name_));
  }
}

absl::StatusOr<MacAddress> MacAddress::Parse(std::string_view input) {
  const absl::string_view text(input.data(), input.size());
  std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  MacAddress mac;
  bool ok = parts.size() == 6;
  for (size_t i = 0; ok && i < parts.size(); ++i) {
    uint32_t v;
    ok = parts[i].size() == 2 && absl::SimpleHexAtoi(parts[i], &v);
    if (ok) mac.bytes[i] = static_cast<uint8_t>(v);
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "' is not a MAC address (e.g. 52:54:00:12:34:56)"));
  }
  if (mac.bytes[0] & 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MAC address ", text, " is a multicast address; a NIC needs unicast"));
  }
  return mac;
}

std::string MacAddress::ToString() const {
  return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1],
                         bytes[2], bytes[3], bytes[4], bytes[5]);
}

}  // namespace ft::vmm
