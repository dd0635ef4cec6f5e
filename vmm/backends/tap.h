// Tap: a Linux TAP interface (/dev/net/tun, IFF_TAP | IFF_NO_PI), the
// back end of a VM's network card: whole Ethernet frames in and out.
//
// Thread ownership: owned by the VM's event loop thread, which reads frames
// when the fd is readable and writes frames the device hands it.
#ifndef FTVM_VMM_BACKENDS_TAP_H_
#define FTVM_VMM_BACKENDS_TAP_H_

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace ft::vmm {

class Tap {
 public:
  // Largest frame moved: a standard 1500-byte MTU frame with a VLAN tag.
  static constexpr size_t kMaxFrame = 1522;

  struct Options {
    std::string name;  // an existing interface, or one to create (<16 bytes)
  };
  // Attaches to (or creates) the interface, non-blocking. Errors say what to
  // do (no /dev/net/tun, not root, name in use by a non-TAP device).
  static absl::StatusOr<Tap> Open(const Options& options);

  Tap(Tap&&) = default;
  Tap& operator=(Tap&&) = default;

  int fd() const { return fd_.get(); }
  const std::string& name() const { return name_; }

  // Reads one frame into `buf` (at least kMaxFrame bytes). Returns its
  // length, or 0 if no frame is waiting.
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf);
  // Writes one frame. A full kernel queue (EAGAIN) drops the frame, as a
  // congested link would; that is reported as ResourceExhausted.
  absl::Status Write(std::span<const uint8_t> frame);

 private:
  Tap(UniqueFd fd, std::string name)
      : fd_(std::move(fd)), name_(std::move(name)) {}
  UniqueFd fd_;
  std::string name_;
};

// An Ethernet MAC address, e.g. parsed from "52:54:00:12:34:56".
struct MacAddress {
  uint8_t bytes[6] = {};
  static absl::StatusOr<MacAddress> Parse(std::string_view text);
  std::string ToString() const;
  bool operator==(const MacAddress&) const = default;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_BACKENDS_TAP_H_
