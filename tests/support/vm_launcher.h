// How a test boots the test guest on a network: the same scenarios run
// under QEMU (the reference peer) and under ftvm, which differ only in the
// command line and in how the guest's exit code shows in the exit status.
#ifndef FTVM_TESTS_SUPPORT_VM_LAUNCHER_H_
#define FTVM_TESTS_SUPPORT_VM_LAUNCHER_H_

#include <functional>
#include <string>
#include <vector>

namespace ft::testing {

struct VmBoot {
  std::string tap;      // TAP in the VMM's network namespace
  std::string mac;      // the guest NIC's MAC, "52:54:00:12:34:56"
  std::string disk;     // raw image attached as virtio-blk
  std::string cmdline;  // kernel command line (the VMM appends its devices)
  std::string memory = "128M";
};

struct VmLauncher {
  std::string name;         // "qemu", "ftvm": test-name suffix
  std::string unavailable;  // why it cannot run here ("" if it can)
  // The VMM's argv (argv[0] a path) for one boot.
  std::function<std::vector<std::string>(const VmBoot&)> argv;
  // The process exit status for guest exit code c (port 0xf4).
  std::function<int(int)> exit_status;
};

// QEMU microvm as tests/support/qemu.h builds it; qemu "" means not found.
VmLauncher QemuLauncher(const std::string& qemu, const std::string& kernel);

// `ftvm run --kernel K --mem M --disk D --net tap=T,mac=M --cmdline C`;
// ftvm exits with the guest's code itself. ftvm "" means not built.
VmLauncher FtvmLauncher(const std::string& ftvm, const std::string& kernel);

}  // namespace ft::testing

#endif  // FTVM_TESTS_SUPPORT_VM_LAUNCHER_H_
