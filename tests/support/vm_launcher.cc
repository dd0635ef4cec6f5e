#include "tests/support/vm_launcher.h"

#include <unistd.h>

#include "tests/support/qemu.h"

namespace ft::testing {

VmLauncher QemuLauncher(const std::string& qemu, const std::string& kernel) {
  VmLauncher l;
  l.name = "qemu";
  if (qemu.empty())
    l.unavailable = "qemu-system-x86_64 not found (or -Dqemu_tests=disabled)";
  else if (access("/dev/kvm", R_OK | W_OK) != 0)
    l.unavailable = "/dev/kvm not usable";
  l.argv = [qemu, kernel](const VmBoot& b) {
    return QemuMicrovmArgv({.qemu = qemu,
                            .kernel = kernel,
                            .memory = b.memory,
                            .cmdline = b.cmdline,
                            .disk = b.disk,
                            .tap = b.tap,
                            .mac = b.mac});
  };
  l.exit_status = QemuExitStatus;
  return l;
}

VmLauncher FtvmLauncher(const std::string& ftvm, const std::string& kernel) {
  VmLauncher l;
  l.name = "ftvm";
  if (ftvm.empty())
    l.unavailable = "ftvm not built";
  else if (access("/dev/kvm", R_OK | W_OK) != 0)
    l.unavailable = "/dev/kvm not usable";
  l.argv = [ftvm, kernel](const VmBoot& b) {
    std::vector<std::string> argv = {ftvm,    "run",    "--kernel",  kernel,
                                     "--mem", b.memory, "--cmdline", b.cmdline};
    if (!b.disk.empty()) argv.insert(argv.end(), {"--disk", b.disk});
    if (!b.tap.empty()) {
      argv.insert(
          argv.end(),
          {"--net", "tap=" + b.tap + (b.mac.empty() ? "" : ",mac=" + b.mac)});
    }
    return argv;
  };
  l.exit_status = [](int code) { return code; };
  return l;
}

}  // namespace ft::testing
