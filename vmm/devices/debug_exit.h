// A power-off port compatible with QEMU's isa-debug-exit (iobase 0xf4,
// iosize 4): a write of value v ends the VM with exit code v. (QEMU itself
// exits with (v << 1) | 1; ftvm returns v unchanged.)
//
// Thread ownership: called through the IoBus (serialized by it).
#ifndef FTVM_VMM_DEVICES_DEBUG_EXIT_H_
#define FTVM_VMM_DEVICES_DEBUG_EXIT_H_

#include <cstdint>
#include <cstring>
#include <functional>

#include "vmm/io/io_bus.h"

namespace ft::vmm {

class DebugExit : public IoDevice {
 public:
  static constexpr uint16_t kPort = 0xf4;
  static constexpr uint16_t kPortCount = 4;

  using ExitCallback = std::function<void(uint32_t code)>;
  explicit DebugExit(ExitCallback on_exit) : on_exit_(std::move(on_exit)) {}

  std::string_view name() const override { return "debug-exit"; }
  void Access(const IoAccess& access) override {
    if (!access.is_write) {
      std::memset(access.data.data(), 0xff, access.data.size());
      return;
    }
    uint32_t code = 0;
    std::memcpy(&code, access.data.data(),
                std::min<size_t>(access.data.size(), sizeof(code)));
    on_exit_(code);
  }

 private:
  ExitCallback on_exit_;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_DEVICES_DEBUG_EXIT_H_
