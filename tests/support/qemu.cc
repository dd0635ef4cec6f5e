#include "tests/support/qemu.h"

namespace ft::testing {

std::vector<std::string> QemuMicrovmArgv(const QemuGuestOptions& options) {
  // One option and its value per line.
  // clang-format off
  return {
      options.qemu,
      // x-option-roms=off: qboot loads the PVH ELF itself (no pvh.bin).
      "-M", "microvm,x-option-roms=off,rtc=off",
      "-enable-kvm",
      // arch-capabilities off: nested KVM here advertises MSR 0x10a but
      // refuses to set it, and QEMU aborts.
      "-cpu", "host,-arch-capabilities",
      "-m", options.memory,
      "-nodefaults", "-no-user-config", "-display", "none",
      "-serial", "stdio",
      "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
      "-kernel", options.kernel,
      "-append", options.cmdline,
  };
  // clang-format on
}

}  // namespace ft::testing
