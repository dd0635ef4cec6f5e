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
};

// The argv that boots `kernel` under QEMU microvm with KVM, serial on
// stdout and isa-debug-exit on port 0xf4 (exit status (code << 1) | 1).
std::vector<std::string> QemuMicrovmArgv(const QemuGuestOptions& options);

// The process exit status QEMU's isa-debug-exit gives for a guest code.
inline int QemuExitStatus(int guest_code) { return (guest_code << 1) | 1; }

}  // namespace ft::testing

#endif  // FTVM_TESTS_SUPPORT_QEMU_H_
