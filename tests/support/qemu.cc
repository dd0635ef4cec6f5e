#include "tests/support/qemu.h"

namespace ft::testing {

std::vector<std::string> QemuMicrovmArgv(const QemuGuestOptions& options) {
  // One option and its value per line.
  // clang-format off
  std::vector<std::string> argv = {
      options.qemu,
      // x-option-roms=off: qboot loads the PVH ELF itself (no pvh.bin).
      // acpi=off: otherwise virtio-mmio IRQs go to IOAPIC pins the 8259
      // cannot see, and the devices are described by ACPI tables instead of
      // the command line.
      "-M", kQemuMicrovmMachine,
      "-enable-kvm",
      // arch-capabilities off: nested KVM here advertises MSR 0x10a but
      // refuses to set it, and QEMU aborts.
      "-cpu", "host,-arch-capabilities",
      "-m", options.memory,
      "-nodefaults", "-no-user-config", "-display", "none",
      "-serial", "stdio",
      "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
      // virtio 1.x (register layout version 2); QEMU 7.2 defaults to legacy.
      "-global", "virtio-mmio.force-legacy=false",
      "-kernel", options.kernel,
      "-append", options.cmdline,
  };
  if (!options.disk.empty()) {
    std::string file;  // QEMU option syntax: a literal comma is ",,"
    for (char c : options.disk) file += c == ',' ? std::string(",,") : std::string(1, c);
    argv.insert(argv.end(), {
        "-drive", "if=none,id=d0,format=raw,file=" + file,
        "-device", "virtio-blk-device,drive=d0",
    });
  }
  if (!options.tap.empty()) {
    argv.insert(argv.end(), {
        "-netdev", "tap,id=n0,ifname=" + options.tap + ",script=no,downscript=no",
        "-device", "virtio-net-device,netdev=n0" +
                       (options.mac.empty() ? "" : ",mac=" + options.mac),
    });
  }
  // clang-format on
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  return argv;
}

}  // namespace ft::testing
