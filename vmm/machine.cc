#include "vmm/machine.h"

#include <unistd.h>

#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/status.h"
#include "vmm/boot/elf_loader.h"
#include "vmm/boot/pvh.h"
#include "vmm/kvm/cpuid.h"

namespace ft::vmm {
namespace {

constexpr size_t kMaxConsoleLine = 4096;

void WriteStdout(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // stdout gone: the guest keeps running regardless
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

const char* MachineReasonName(MachineResult::Reason reason) {
  switch (reason) {
    case MachineResult::Reason::kPowerOff:
      return "power-off";
    case MachineResult::Reason::kShutdown:
      return "shutdown";
    case MachineResult::Reason::kHalted:
      return "halted";
    case MachineResult::Reason::kStopped:
      return "stopped";
    case MachineResult::Reason::kFailed:
      return "failed";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<Machine>> Machine::Create(
    const KvmSystem& kvm, MachineOptions options) {
  if (options.vcpus != 1) {
    return absl::UnimplementedError(absl::StrFormat(
        "%u vCPUs requested; lockstep guests have exactly one (multi-vCPU "
        "guests need checkpoint mode, not yet available)",
        options.vcpus));
  }
  if (options.kernel_path.empty()) {
    return absl::InvalidArgumentError("no kernel given (--kernel FILE)");
  }
  if (!options.console) options.console = WriteStdout;
  FT_ASSIGN_OR_RETURN(GuestMemory memory,
                      GuestMemory::Create({.size = options.memory_bytes}));
  std::unique_ptr<Machine> m(
      new Machine(std::move(options), std::move(memory)));
  FT_RETURN_IF_ERROR(m->Build(kvm));
  return m;
}

Machine::Machine(MachineOptions options, GuestMemory memory)
    : options_(std::move(options)), memory_(std::move(memory)) {}

Machine::~Machine() {
  for (auto& t : vcpus_) t->RequestExit();
  vcpus_.clear();  // joins before the devices they call go away
}

absl::Status Machine::Build(const KvmSystem& kvm) {
  FT_ASSIGN_OR_RETURN(vm_, Vm::Create(kvm));
  FT_RETURN_IF_ERROR(vm_->MapMemory(memory_));

  serial_ = std::make_unique<Serial16550>(
      [this](std::span<const uint8_t> b) { ConsoleBytes(b); });
  debug_exit_ = std::make_unique<DebugExit>([this](uint32_t code) {
    Finish({.reason = MachineResult::Reason::kPowerOff,
            .exit_code = code,
            .detail = absl::StrFormat("guest powered off with code %u", code)});
  });
  pit_ = std::make_unique<Pit8254>(&clock_);
  FT_RETURN_IF_ERROR(bus_.Register(IoSpace::kPio, Serial16550::kCom1Port,
                                   Serial16550::kPortCount, serial_.get()));
  FT_RETURN_IF_ERROR(bus_.Register(IoSpace::kPio, DebugExit::kPort,
                                   DebugExit::kPortCount, debug_exit_.get()));
  FT_RETURN_IF_ERROR(bus_.Register(IoSpace::kPio, Pit8254::kPort,
                                   Pit8254::kPortCount, pit_.get()));
  FT_RETURN_IF_ERROR(
      bus_.Register(IoSpace::kPio, Pit8254::kControlPortB, 1, pit_.get()));

  absl::StatusOr<LoadedKernel> kernel =
      LoadPvhElfFile(options_.kernel_path, memory_);
  if (!kernel.ok()) return kernel.status();
  FT_ASSIGN_OR_RETURN(Gpa start_info,
                      WritePvhBootInfo(memory_, options_.cmdline));

  for (uint32_t i = 0; i < options_.vcpus; ++i) {
    FT_ASSIGN_OR_RETURN(std::unique_ptr<Vcpu> vcpu, Vcpu::Create(*vm_, i));
    FT_RETURN_IF_ERROR(vcpu->SetCpuid(
        BuildGuestCpuid(kvm.supported_cpuid(),
                        {.vcpu_index = i, .vcpu_count = options_.vcpus})));
    FT_ASSIGN_OR_RETURN(kvm_sregs base, vcpu->GetSregs());
    PvhEntryState st = MakePvhEntryState(kernel->entry, start_info, base);
    FT_RETURN_IF_ERROR(vcpu->SetSregs(st.sregs));
    FT_RETURN_IF_ERROR(vcpu->SetRegs(st.regs));
    FT_RETURN_IF_ERROR(vcpu->SetFpu(st.fpu));
    vcpus_.push_back(std::make_unique<VcpuThread>(std::move(vcpu), this));
  }
  return absl::OkStatus();
}

absl::StatusOr<MachineResult> Machine::Run() {
  for (auto& t : vcpus_) t->Start();
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::optional<MachineResult>* r) { return r->has_value(); },
        &result_));
  }
  absl::Status failure;
  for (auto& t : vcpus_) {
    t->RequestExit();
    absl::Status s = t->Join();
    if (!s.ok() && failure.ok()) failure = s;
  }
  FlushConsole();
  if (!failure.ok()) return failure;
  absl::MutexLock lock(&mu_);
  return *result_;
}

void Machine::Stop() {
  Finish({.reason = MachineResult::Reason::kStopped, .detail = "stopped"});
}

void Machine::Pause() {
  for (auto& t : vcpus_) t->Pause();
}

void Machine::Resume() {
  for (auto& t : vcpus_) t->Resume();
}

void Machine::Finish(MachineResult result) {
  absl::MutexLock lock(&mu_);
  if (!result_) result_ = std::move(result);  // the first cause wins
}

VcpuThread::Stats Machine::vcpu_stats() const {
  VcpuThread::Stats total;
  for (const auto& t : vcpus_) {
    VcpuThread::Stats s = t->stats();
    total.exits += s.exits;
    total.interrupted += s.interrupted;
  }
  return total;
}

ExitAction Machine::HandleExit(Vcpu& vcpu, const VmExit& exit) {
  if (const auto* pio = std::get_if<PioExit>(&exit)) {
    bus_.HandlePio(*pio);
  } else if (const auto* mmio = std::get_if<MmioExit>(&exit)) {
    bus_.HandleMmio(*mmio);
  } else if (std::holds_alternative<HltExit>(exit)) {
    // No interrupt source exists yet, so nothing can ever wake the vCPU.
    Finish({.reason = MachineResult::Reason::kHalted,
            .detail = "guest halted with no interrupt source: " +
                      DescribeVcpu(vcpu)});
  } else if (std::holds_alternative<ShutdownExit>(exit)) {
    Finish({.reason = MachineResult::Reason::kShutdown,
            .detail = "guest triple-faulted: " + DescribeVcpu(vcpu)});
  } else if (const auto* ev = std::get_if<SystemEventExit>(&exit)) {
    Finish({.reason = ev->type == KVM_SYSTEM_EVENT_SHUTDOWN
                          ? MachineResult::Reason::kPowerOff
                          : MachineResult::Reason::kFailed,
            .detail = DescribeExit(exit)});
  } else {
    Finish({.reason = MachineResult::Reason::kFailed,
            .detail = DescribeExit(exit) + ": " + DescribeVcpu(vcpu)});
  }
  absl::MutexLock lock(&mu_);
  return result_ ? ExitAction::kStop : ExitAction::kContinue;
}

std::string Machine::DescribeVcpu(Vcpu& vcpu) {
  absl::StatusOr<kvm_regs> regs = vcpu.GetRegs();
  absl::StatusOr<kvm_sregs> sregs = vcpu.GetSregs();
  if (!regs.ok() || !sregs.ok()) return "(vCPU registers unavailable)";
  return absl::StrFormat(
      "vcpu%u rip=0x%x rsp=0x%x rflags=0x%x cs=0x%x cpl=%u cr0=0x%x "
      "cr3=0x%x cr4=0x%x efer=0x%x",
      vcpu.index(), regs->rip, regs->rsp, regs->rflags, sregs->cs.selector,
      sregs->cs.dpl, sregs->cr0, sregs->cr3, sregs->cr4, sregs->efer);
}

void Machine::ConsoleBytes(std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) {
    console_line_.push_back(static_cast<char>(b));
    if (b == '\n' || console_line_.size() >= kMaxConsoleLine) FlushConsole();
  }
}

void Machine::FlushConsole() {
  if (console_line_.empty()) return;
  options_.console(console_line_);
  console_line_.clear();
}

}  // namespace ft::vmm
