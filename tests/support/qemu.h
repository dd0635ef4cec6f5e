// How tests and benchmarks start the test guest under QEMU microvm, the
// reference peer ftvm is compared against.
#ifndef FTVM_TESTS_SUPPORT_QEMU_H_
#define FTVM_TESTS_SUPPORT_QEMU_H_

#include <string>
#include <vector>

namespace ft::testing {

struct QemuGuestOptions {
  std::string qemu;    // path to qemu-system-x86_64
  std::string kernel;  // PVH ELF
  std::string memory = "128M";
  std::string cmdline;
  // A raw image attached as a virtio-blk device (virtio-mmio, modern). QEMU
  // appends its virtio_mmio.device= token to the command line. Empty: none.
  std::string disk;
  // A TAP interface (which must exist in QEMU's network namespace) attached
  // as a virtio-net device (virtio-mmio, modern) with MAC `mac` (empty:
  // QEMU's default). QEMU announces it on the command line too. Empty: none.
  std::string tap;
  std::string mac;
  // Appended to the argv as is (e.g. {"-rtc", "base=2020-02-29T12:00:00"}).
  std::vector<std::string> extra_args;
};

// The machine: microvm with the legacy PC devices the guest drives (8259
// PIC, 8254 PIT, CMOS RTC) and ACPI off, which is what makes QEMU put the
// virtio-mmio transports on 8259 lines (5-12) and announce them on the
// kernel command line.
inline constexpr const char* kQemuMicrovmMachine =
    "microvm,x-option-roms=off,acpi=off,pic=on,pit=on,rtc=on,ioapic2=off";

// The argv that boots `kernel` under QEMU microvm with KVM, serial on
// stdout and isa-debug-exit on port 0xf4 (exit status (code << 1) | 1).
std::vector<std::string> QemuMicrovmArgv(const QemuGuestOptions& options);

// The process exit status QEMU's isa-debug-exit gives for a guest code.
inline int QemuExitStatus(int guest_code) { return (guest_code << 1) | 1; }

}  // namespace ft::testing

#endif  // FTVM_TESTS_SUPPORT_QEMU_H_
