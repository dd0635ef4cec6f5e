// Machine: one guest assembled from the KVM core, guest memory, the I/O bus,
// the devices and a PVH-booted kernel, run until it powers off.
//
// Thread ownership: Create() and Run() belong to one controlling thread;
// Stop() may be called from any thread (e.g. a signal-forwarding thread).
// Exits are handled on the vCPU thread.
#ifndef FTVM_VMM_MACHINE_H_
#define FTVM_VMM_MACHINE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "vmm/devices/debug_exit.h"
#include "vmm/devices/pit_8254.h"
#include "vmm/devices/serial_16550.h"
#include "vmm/io/io_bus.h"
#include "vmm/kvm/kvm_system.h"
#include "vmm/kvm/vm.h"
#include "vmm/memory/guest_memory.h"
#include "vmm/vcpu_thread.h"

namespace ft::vmm {

struct MachineOptions {
  std::string kernel_path;
  uint64_t memory_bytes = 256ull << 20;
  std::string cmdline;
  uint32_t vcpus = 1;
  // Receives the guest's serial output in whole lines (and any unterminated
  // tail when the machine stops). Default: written to standard output.
  std::function<void(std::string_view)> console;
};

struct MachineResult {
  enum class Reason {
    kPowerOff,  // the guest wrote its exit code to the debug-exit port
    kShutdown,  // triple fault: the guest is dead
    kHalted,    // HLT with nothing that could ever wake it
    kStopped,   // Stop() was called
    kFailed,    // KVM refused to run the vCPU or reported an error
  };
  Reason reason = Reason::kStopped;
  uint32_t exit_code = 0;  // meaningful for kPowerOff
  std::string detail;      // what happened, with the vCPU registers if dead
};
const char* MachineReasonName(MachineResult::Reason reason);

class Machine : public VcpuExitHandler {
 public:
  static absl::StatusOr<std::unique_ptr<Machine>> Create(
      const KvmSystem& kvm, MachineOptions options);
  ~Machine() override;

  // Runs the guest until it powers off, dies or Stop() is called. Once only.
  absl::StatusOr<MachineResult> Run();
  void Stop();
  // Holds every vCPU outside KVM_RUN (returns once they are), and lets them
  // go again. For use while Run() is in progress, from another thread.
  void Pause();
  void Resume();

  const GuestMemory& memory() const { return memory_; }
  IoBus::Stats bus_stats() const { return bus_.stats(); }
  VcpuThread::Stats vcpu_stats() const;

  ExitAction HandleExit(Vcpu& vcpu, const VmExit& exit) override;

 private:
  Machine(MachineOptions options, GuestMemory memory);
  absl::Status Build(const KvmSystem& kvm);
  void Finish(MachineResult result);
  void ConsoleBytes(std::span<const uint8_t> bytes);
  void FlushConsole();
  std::string DescribeVcpu(Vcpu& vcpu);

  MachineOptions options_;
  GuestMemory memory_;
  MonotonicClock clock_;
  IoBus bus_;
  std::unique_ptr<Vm> vm_;
  std::unique_ptr<Serial16550> serial_;
  std::unique_ptr<DebugExit> debug_exit_;
  std::unique_ptr<Pit8254> pit_;
  std::vector<std::unique_ptr<VcpuThread>> vcpus_;
  std::string console_line_;  // touched only under the bus lock

  absl::Mutex mu_;
  std::optional<MachineResult> result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_MACHINE_H_
