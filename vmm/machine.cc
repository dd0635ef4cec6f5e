#include "vmm/machine.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"
#include "common/status.h"
#include "vmm/boot/elf_loader.h"
#include "vmm/boot/pvh.h"
#include "vmm/kvm/cpuid.h"
#include "vmm/kvm/kvm_stats.h"
#include "vmm/virtio/blk_backend.h"
#include "vmm/virtio/raw_image.h"
#include "vmm/virtio/virtio_blk.h"

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

// The devices' clocks on a recording or replaying machine: every read goes
// through the hooks, which log it or answer from the log.
class Machine::HookedClock : public Clock {
 public:
  HookedClock(Clock* real, ExecutionHooks* hooks)
      : real_(real), hooks_(hooks) {}
  int64_t NowNanos() override {
    return hooks_->OnClockRead(HostClock::kMonotonic, real_->NowNanos());
  }

 private:
  Clock* real_;
  ExecutionHooks* hooks_;
};

class Machine::HookedRealtimeClock : public RealtimeClock {
 public:
  HookedRealtimeClock(RealtimeClock* real, ExecutionHooks* hooks)
      : real_(real), hooks_(hooks) {}
  int64_t UnixNanos() override {
    return hooks_->OnClockRead(HostClock::kRealtime, real_->UnixNanos());
  }

 private:
  RealtimeClock* real_;
  ExecutionHooks* hooks_;
};

static_assert(static_cast<int>(MachineResult::Reason::kPowerOff) ==
              static_cast<int>(FinishReason::kPowerOff));
static_assert(static_cast<int>(MachineResult::Reason::kFailed) ==
              static_cast<int>(FinishReason::kFailed));
static_assert(static_cast<int>(MachineResult::Reason::kStopped) ==
              static_cast<int>(FinishReason::kStopped));

// Back ends as the hooks see them: every output passes OnOutput first.
// With a gate, an output leaves once the gate releases it (a copy of the
// frame, or the request itself, waits there).
class HookedNetBackend : public NetBackend {
 public:
  HookedNetBackend(std::unique_ptr<NetBackend> inner, ExecutionHooks* hooks,
                   OutputGate* gate, uint32_t device)
      : inner_(std::move(inner)), hooks_(hooks), gate_(gate), device_(device) {}
  void Connect(AsyncEventPoster poster) override { inner_->Connect(poster); }
  void Transmit(std::span<const uint8_t> frame) override {
    hooks_->OnOutput(OutputKind::kNetPacket, device_, frame);
    if (gate_ == nullptr) {
      inner_->Transmit(frame);
      return;
    }
    gate_->Hold(NetStream(device_), /*is_output=*/true,
                [inner = inner_.get(),
                 copy = std::vector<uint8_t>(frame.begin(), frame.end())] {
                  inner->Transmit(copy);
                });
  }
  void ReleaseRx(size_t frames) override { inner_->ReleaseRx(frames); }
  void SetReceiving(bool receiving) override {
    inner_->SetReceiving(receiving);
  }

 private:
  std::unique_ptr<NetBackend> inner_;
  ExecutionHooks* hooks_;
  OutputGate* gate_;
  uint32_t device_;
};

class HookedBlockBackend : public BlockBackend {
 public:
  HookedBlockBackend(std::unique_ptr<BlockBackend> inner, ExecutionHooks* hooks,
                     OutputGate* gate, uint32_t device)
      : inner_(std::move(inner)), hooks_(hooks), gate_(gate), device_(device) {}
  uint64_t size_bytes() const override { return inner_->size_bytes(); }
  bool read_only() const override { return inner_->read_only(); }
  void Connect(AsyncEventPoster poster) override { inner_->Connect(poster); }
  void Submit(BlockRequest request) override {
    const bool write = request.op == BlockRequest::Op::kWrite;
    if (write) hooks_->OnOutput(OutputKind::kDiskWrite, device_, request.data);
    if (gate_ == nullptr) {
      inner_->Submit(std::move(request));
      return;
    }
    // Only a write is an output. A flush changes no data the secondary
    // could disagree with: it waits behind the writes before it (their
    // stream keeps its order), not for an acknowledgement of its own.
    gate_->Hold(DiskStream(device_), /*is_output=*/write,
                [inner = inner_.get(),
                 held = std::make_shared<BlockRequest>(std::move(request))] {
                  inner->Submit(std::move(*held));
                });
  }

 private:
  std::unique_ptr<BlockBackend> inner_;
  ExecutionHooks* hooks_;
  OutputGate* gate_;
  uint32_t device_;
};

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
  if (options.output_gate != nullptr &&
      (options.hooks == nullptr || options.replay)) {
    return absl::InvalidArgumentError(
        "an output gate needs recording hooks (it holds what they log)");
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
  for (auto& t : vcpus_) t->Join().IgnoreError();
  // Before the vCPU threads go: timer callbacks post events, and posting
  // wakes a vCPU thread. Before the devices go: no callback may run then.
  if (loop_) loop_->Stop();
  // Disk workers post their last completions while shutting down, and
  // posting wakes a vCPU thread: the transports go first.
  virtio_.clear();
  vcpus_.clear();
}

absl::StatusOr<std::string> Machine::AddVirtioDevice(
    std::unique_ptr<VirtioDevice> device) {
  // QEMU microvm's windows and free ISA IRQs (not 7/15: spurious vectors).
  constexpr uint64_t kVirtioMmioBase = 0xfeb0'0000;
  constexpr int kVirtioIrqs[] = {5, 10, 11, 12};
  if (virtio_.size() >= std::size(kVirtioIrqs)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "at most %d virtio devices (disks and network cards together) are "
        "supported",
        std::size(kVirtioIrqs)));
  }
  const uint64_t base =
      kVirtioMmioBase + virtio_.size() * MmioTransport::kWindowSize;
  const int irq = kVirtioIrqs[virtio_.size()];
  FT_ASSIGN_OR_RETURN(std::unique_ptr<MmioTransport> t,
                      MmioTransport::Create({.memory = &memory_,
                                             .irq = pic_->line(irq),
                                             .events = &events_,
                                             .device = std::move(device)}));
  FT_RETURN_IF_ERROR(
      bus_.Register(IoSpace::kMmio, base, MmioTransport::kWindowSize, t.get()));
  virtio_.push_back(std::move(t));
  return absl::StrCat(" ", VirtioMmioCmdlineToken(base, irq));
}

absl::StatusOr<std::string> Machine::AttachVirtioDevices() {
  std::string tokens;
  for (size_t i = 0; i < options_.disks.size(); ++i) {
    const DiskSpec& disk = options_.disks[i];
    std::unique_ptr<BlockBackend> backend;
    if (options_.replay) {
      if (i >= options_.replay_disk_bytes.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("replay: no size given for disk ", i));
      }
      backend = std::make_unique<InertBlockBackend>(
          options_.replay_disk_bytes[i], disk.read_only);
    } else {
      FT_ASSIGN_OR_RETURN(
          RawImage image,
          RawImage::Open({.path = disk.path, .read_only = disk.read_only}));
      backend = std::make_unique<FileBlockBackend>(std::move(image));
    }
    if (options_.hooks != nullptr) {
      backend = std::make_unique<HookedBlockBackend>(
          std::move(backend), options_.hooks, options_.output_gate,
          static_cast<uint32_t>(i));
    }
    FT_ASSIGN_OR_RETURN(
        std::unique_ptr<VirtioBlk> blk,
        VirtioBlk::Create({.backend = std::move(backend),
                           .serial = absl::StrCat("ftvm-disk", i)}));
    FT_ASSIGN_OR_RETURN(std::string token, AddVirtioDevice(std::move(blk)));
    tokens += token;
  }
  for (const NetSpec& spec : options_.nets) {
    const MacAddress mac = spec.mac ? *spec.mac : DefaultMac(spec.tap);
    const auto nic = static_cast<uint32_t>(nets_.size());
    std::unique_ptr<NetBackend> backend;
    if (options_.replay) {
      backend = std::make_unique<InertNetBackend>();
    } else {
      FT_ASSIGN_OR_RETURN(Tap tap, Tap::Open({.name = spec.tap}));
      auto tap_backend =
          std::make_unique<TapNetBackend>(std::move(tap), loop_.get());
      taps_.push_back(tap_backend.get());
      backend = std::move(tap_backend);
    }
    if (options_.hooks != nullptr) {
      backend = std::make_unique<HookedNetBackend>(
          std::move(backend), options_.hooks, options_.output_gate, nic);
    }
    FT_ASSIGN_OR_RETURN(
        std::unique_ptr<VirtioNet> net,
        VirtioNet::Create({.backend = std::move(backend), .mac = mac}));
    nets_.push_back(net.get());
    FT_ASSIGN_OR_RETURN(std::string token, AddVirtioDevice(std::move(net)));
    tokens += token;
  }
  return tokens;
}

absl::Status Machine::Build(const KvmSystem& kvm) {
  FT_ASSIGN_OR_RETURN(vm_, Vm::Create(kvm));
  FT_RETURN_IF_ERROR(
      vm_->MapMemory(memory_, {.log_dirty = options_.log_dirty_pages}));
  FT_ASSIGN_OR_RETURN(loop_, EventLoop::Create("ftvm-events"));

  pic_ = std::make_unique<Pic8259>();
  FT_RETURN_IF_ERROR(bus_.Register(IoSpace::kPio, Pic8259::kMasterPort,
                                   Pic8259::kPortCount, pic_.get()));
  FT_RETURN_IF_ERROR(bus_.Register(IoSpace::kPio, Pic8259::kSlavePort,
                                   Pic8259::kPortCount, pic_.get()));
  FT_RETURN_IF_ERROR(bus_.Register(IoSpace::kPio, Pic8259::kElcrPort,
                                   Pic8259::kElcrPortCount, pic_.get()));
  if (options_.hooks != nullptr) {
    device_clock_ = std::make_unique<HookedClock>(&clock_, options_.hooks);
    device_wall_clock_ =
        std::make_unique<HookedRealtimeClock>(&wall_clock_, options_.hooks);
  }
  Clock* const device_clock =
      device_clock_ ? device_clock_.get() : static_cast<Clock*>(&clock_);
  RealtimeClock* const device_wall_clock =
      device_wall_clock_ ? device_wall_clock_.get()
                         : static_cast<RealtimeClock*>(&wall_clock_);
  rtc_ = std::make_unique<CmosRtc>(device_wall_clock);
  FT_RETURN_IF_ERROR(bus_.Register(IoSpace::kPio, CmosRtc::kPort,
                                   CmosRtc::kPortCount, rtc_.get()));

  serial_ = std::make_unique<Serial16550>(
      [this](std::span<const uint8_t> b) { ConsoleBytes(b); });
  debug_exit_ = std::make_unique<DebugExit>([this](uint32_t code) {
    Finish({.reason = MachineResult::Reason::kPowerOff,
            .exit_code = code,
            .detail = absl::StrFormat("guest powered off with code %u", code)});
  });
  pit_ = std::make_unique<Pit8254>(
      device_clock,
      Pit8254::Irq0Wiring{
          .irq0 = pic_->line(0), .timers = loop_.get(), .events = &events_});
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
  // Devices announce themselves on the command line, as under QEMU microvm.
  FT_ASSIGN_OR_RETURN(const std::string devices, AttachVirtioDevices());
  FT_ASSIGN_OR_RETURN(Gpa start_info,
                      WritePvhBootInfo(memory_, options_.cmdline + devices));

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
  // One vCPU (Create refuses more): every event goes to it. The wake kicks
  // it out of KVM_RUN so the event is delivered by BeforeEntry within about
  // 0.1 ms even while the guest computes without exits.
  if (options_.replay) {
    // Events come from the log only; the back ends' own are dropped.
    events_.Seal();
  } else if (options_.hooks != nullptr) {
    // Recording: an event waits for the guest's next exit of its own (a
    // position) up to the latency bound, then the vCPU is kicked.
    events_.SetWake([this, vcpu = vcpus_[0].get()] {
      vcpu->Wake(/*kick=*/false);
      ArmLatencyKick(options_.latency_bound);
    });
  } else {
    events_.SetWake([vcpu = vcpus_[0].get()] { vcpu->Wake(); });
  }
  return absl::OkStatus();
}

absl::StatusOr<MachineResult> Machine::Run() {
  for (TapNetBackend* tap : taps_) FT_RETURN_IF_ERROR(tap->Start());
  loop_->Start();
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
  loop_->Stop();
  FlushConsole();
  if (!failure.ok()) return failure;
  MachineResult result;
  {
    absl::MutexLock lock(&mu_);
    result = *result_;
  }
  if (options_.hooks != nullptr) {
    options_.hooks->OnFinish(*this, static_cast<FinishReason>(result.reason),
                             result.exit_code);
  }
  return result;
}

void Machine::ArmLatencyKick(absl::Duration after) {
  absl::MutexLock lock(&kick_mu_);
  if (kick_timer_ != 0) return;
  kick_timer_ = loop_->ScheduleAfter(after, [this, vcpu = vcpus_[0].get()] {
    {
      absl::MutexLock timer_lock(&kick_mu_);
      kick_timer_ = 0;
    }
    // Kick only for an input that has waited the whole bound. The one that
    // armed this timer may have been delivered at an exit since, and what
    // waits now came later: kicking for it would take a checkpoint long
    // before the guest's own next exit is due (seen: most of redis's
    // checkpoints, right after an MMIO exit or in a short disk spin).
    const absl::Time due = absl::Now() - options_.latency_bound;
    const bool deferred = deferred_interrupt_.load();
    const absl::Time deferred_since =
        deferred ? absl::FromUnixNanos(deferred_since_ns_.load())
                 : absl::InfiniteFuture();
    if (deferred_since <= due) {
      vcpu->ForceKick();
      return;
    }
    if (vcpu->KickIfWokenBefore(due)) return;
    const absl::Time oldest = std::min(vcpu->WokenAt(), deferred_since);
    if (oldest == absl::InfiniteFuture()) return;  // delivered meanwhile
    ArmLatencyKick(std::max(oldest - due, absl::Microseconds(10)));
  });
}

uint64_t Machine::AdvancePosition() {
  at_position_ = true;
  return ++position_;
}

absl::Status Machine::RestoreVcpu(const VcpuSnapshot& snapshot) {
  return vmm::RestoreVcpu(vcpus_[0]->vcpu(), snapshot);
}

ExitPoint Machine::ExitPointOf(Vcpu& vcpu, const VmExit& exit) {
  ExitPoint at{.position = ++position_, .rip = vcpu.exit_rip()};
  if (const auto* pio = std::get_if<PioExit>(&exit)) {
    at.kind = ExitKind::kPio;
    at.address = pio->port;
  } else if (const auto* mmio = std::get_if<MmioExit>(&exit)) {
    at.kind = ExitKind::kMmio;
    at.address = mmio->address.value();
  } else if (std::holds_alternative<HltExit>(exit)) {
    at.kind = ExitKind::kHlt;
  } else if (std::holds_alternative<IrqWindowOpenExit>(exit)) {
    at.kind = ExitKind::kIrqWindow;
  } else {
    at.kind = ExitKind::kShutdown;  // the run ends here
  }
  return at;
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
    total.halts += s.halts;
  }
  return total;
}

absl::StatusOr<std::map<std::string, uint64_t>> Machine::kvm_vcpu_stats()
    const {
  std::map<std::string, uint64_t> total;
  for (const auto& t : vcpus_) {
    FT_ASSIGN_OR_RETURN(KvmStats stats, KvmStats::Open(t->vcpu().fd()));
    FT_ASSIGN_OR_RETURN(auto values, stats.ReadAll());
    for (const auto& [name, value] : values) total[name] += value;
  }
  return total;
}

absl::StatusOr<Vcpu*> Machine::StoppedVcpu(uint32_t index) {
  if (index >= vcpus_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("no vCPU ", index));
  }
  const VcpuState state = vcpus_[index]->state();
  if (state == VcpuState::kRunning || state == VcpuState::kHalted) {
    return absl::FailedPreconditionError(
        absl::StrCat("vCPU ", index, " is ", VcpuStateName(state),
                     ": pause the machine first"));
  }
  return &vcpus_[index]->vcpu();
}

absl::StatusOr<VcpuSnapshot> Machine::SaveVcpu(uint32_t index) {
  FT_ASSIGN_OR_RETURN(Vcpu * vcpu, StoppedVcpu(index));
  return vmm::SaveVcpu(*vcpu);
}

absl::Status Machine::RestoreVcpu(uint32_t index,
                                  const VcpuSnapshot& snapshot) {
  FT_ASSIGN_OR_RETURN(Vcpu * vcpu, StoppedVcpu(index));
  return vmm::RestoreVcpu(*vcpu, snapshot);
}

std::vector<VirtioNet::Stats> Machine::net_stats() const {
  std::vector<VirtioNet::Stats> out;
  for (const VirtioNet* net : nets_) out.push_back(net->stats());
  return out;
}

std::vector<TapNetBackend::Stats> Machine::tap_stats() const {
  std::vector<TapNetBackend::Stats> out;
  for (const TapNetBackend* tap : taps_) out.push_back(tap->stats());
  return out;
}

ExitAction Machine::HandleExit(Vcpu& vcpu, const VmExit& exit) {
  at_position_ = true;
  if (options_.hooks != nullptr) {
    absl::Status s = options_.hooks->OnExit(ExitPointOf(vcpu, exit));
    if (!s.ok()) {
      Finish({.reason = MachineResult::Reason::kFailed,
              .detail = std::string(s.message())});
      return ExitAction::kStop;
    }
  }
  if (const auto* pio = std::get_if<PioExit>(&exit)) {
    bus_.HandlePio(*pio);
  } else if (const auto* mmio = std::get_if<MmioExit>(&exit)) {
    bus_.HandleMmio(*mmio);
  } else if (std::holds_alternative<HltExit>(exit)) {
    // See the header for why these two cases end the machine.
    if (!vcpu.interrupt_flag()) {
      Finish({.reason = MachineResult::Reason::kHalted,
              .detail = "guest halted with interrupts disabled (IF=0): " +
                        DescribeVcpu(vcpu)});
    } else if (pic_->AllInputsMasked()) {
      Finish({.reason = MachineResult::Reason::kHalted,
              .detail = "guest halted with every PIC input masked: " +
                        DescribeVcpu(vcpu)});
    } else if (!pic_->HasPendingInterrupt()) {
      halted_ = true;
      // A replay has every event of this position in its log: BeforeEntry
      // delivers them now instead of waiting for a wake.
      if (!options_.replay) return ExitAction::kWaitForWake;
    }
    // else: an interrupt is already waiting; BeforeEntry injects it.
  } else if (std::holds_alternative<IrqWindowOpenExit>(exit)) {
    // The guest can take the interrupt it was waiting for: BeforeEntry
    // injects it.
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

absl::StatusOr<EntryAction> Machine::BeforeEntry(Vcpu& vcpu) {
  // A replayer whose recording was kicked out right after this point (a
  // checkpoint follows with no exit between) goes round again without
  // entering the guest: the next round applies the checkpoint, exactly
  // where the recorder's kick returned.
  while (true) {
    FT_ASSIGN_OR_RETURN(EntryAction action, PrepareEntry(vcpu));
    if (action != EntryAction::kEnter || options_.hooks == nullptr ||
        options_.hooks->EnterGuest(*this)) {
      return action;
    }
  }
}

absl::StatusOr<EntryAction> Machine::PrepareEntry(Vcpu& vcpu) {
  // Asynchronous events reach device models only here, with the vCPU stopped
  // outside KVM_RUN. After a guest-initiated exit this is a position. After
  // a kick (Wake while the guest computed) it is not: with hooks, that is
  // where a micro-checkpoint is taken before delivering.
  const uint64_t position_before = position_;
  if (options_.hooks != nullptr) {
    absl::Status s = options_.hooks->BeforeEntry(*this, at_position_);
    if (!s.ok()) {
      Finish({.reason = MachineResult::Reason::kFailed,
              .detail = std::string(s.message())});
      return EntryAction::kStayHalted;  // Run() ends the thread
    }
    absl::MutexLock lock(&mu_);
    if (result_) return EntryAction::kStayHalted;  // the hooks ended the run
  } else {
    events_.DeliverPending();
  }
  const bool pending = pic_->HasPendingInterrupt();
  // Woken by an event that raised no interrupt (a masked line, a stale
  // timer): the guest stays in its HLT.
  if (halted_ && !pending) {
    if (options_.hooks != nullptr && !options_.hooks->MayWaitWhenHalted()) {
      Finish({.reason = MachineResult::Reason::kStopped,
              .detail = "replay: the log ends while the guest is halted"});
    }
    return EntryAction::kStayHalted;
  }
  halted_ = false;
  const bool after_exit = at_position_ && position_ == position_before;
  at_position_ = false;
  // Whether a pending interrupt goes in now, waits for a window exit, or
  // waits for the next position. After an exit of the guest's own, KVM's
  // kvm_run flags say whether it can go in. After a checkpoint (taken here,
  // or applied by a replayer) they describe another point of execution, so
  // the answer comes from the vCPU state itself, the same on both sides.
  // After a kick with no checkpoint (no events, nothing deferred) this is
  // not a position: nothing is injected, and a pending interrupt waits for
  // the next position (below).
  Gate gate = Gate::kWindow;
  if (pending) {
    if (options_.hooks == nullptr) {
      gate = vcpu.ready_for_interrupt_injection() && vcpu.interrupt_flag()
                 ? Gate::kInject
                 : Gate::kWindow;
    } else if (after_exit) {
      FT_ASSIGN_OR_RETURN(gate, GateAfterExit(vcpu));
    } else if (position_ != position_before) {
      FT_ASSIGN_OR_RETURN(gate, GateFromState(vcpu));
    } else if (deferred_interrupt_.load(std::memory_order_relaxed)) {
      gate = Gate::kDefer;  // (a recorder checkpoints first; be safe)
    }
  }
  // With hooks, an interrupt the guest cannot take now waits for the next
  // position (a guest exit, or the latency kick's checkpoint), never for a
  // window exit: where KVM reports the window open depends on host timing
  // (under this host's KVM it is the next time KVM gets control after the
  // guest set IF, which a host interrupt can bring early), so a replay
  // could not stop where the recording did (seen: the recording's window
  // exit one instruction after an IRET to the idle loop, the replay's at
  // the return to user mode two instructions on).
  if (gate == Gate::kWindow && pending && options_.hooks != nullptr) {
    gate = Gate::kDefer;
  }
  bool window = false;
  if (gate == Gate::kInject) {
    const uint8_t vector = pic_->AcknowledgeInterrupt();
    FT_RETURN_IF_ERROR(vcpu.Interrupt(vector));
    interrupts_injected_.fetch_add(1);
    // Another request may wait behind this one (auto-EOI). Without hooks,
    // come back as soon as the guest can take it. With hooks, a window
    // exit asked for in the same entry as an injection comes wherever KVM
    // next looks (its first exit of any kind after delivering, which
    // depends on host timing): the second interrupt waits for the next
    // position instead.
    if (pic_->HasPendingInterrupt()) {
      if (options_.hooks == nullptr) {
        window = true;
      } else {
        gate = Gate::kDefer;
      }
    }
  } else if (gate == Gate::kWindow) {
    window = pending;
  }
  vcpu.set_request_interrupt_window(window);
  if (gate == Gate::kDefer && !deferred_interrupt_.load()) {
    deferred_since_ns_.store(absl::ToUnixNanos(absl::Now()));
  }
  // Release: the kick timer that sees the flag sees deferred_since_ns_.
  deferred_interrupt_.store(gate == Gate::kDefer, std::memory_order_release);
  if (gate == Gate::kDefer) interrupts_deferred_.fetch_add(1);
  // A recorder's deferred interrupt: a kick within the latency bound makes
  // a position for it if the guest makes none of its own.
  if (gate == Gate::kDefer && options_.hooks != nullptr && !options_.replay) {
    ArmLatencyKick(options_.latency_bound);
  }
  return EntryAction::kEnter;
}

namespace {

// Something KVM will deliver at the next entry: a window exit asked for now
// would come wherever KVM next looks, not where the guest opens it.
bool EventQueued(const kvm_vcpu_events& ev) {
  return ev.interrupt.injected || ev.exception.injected ||
         ev.exception.pending || ev.nmi.injected;
}

}  // namespace

absl::StatusOr<Machine::Gate> Machine::GateAfterExit(Vcpu& vcpu) {
  if (vcpu.ready_for_interrupt_injection() && vcpu.interrupt_flag()) {
    return Gate::kInject;
  }
  FT_ASSIGN_OR_RETURN(kvm_vcpu_events ev, vcpu.GetEvents());
  return EventQueued(ev) ? Gate::kDefer : Gate::kWindow;
}

absl::StatusOr<Machine::Gate> Machine::GateFromState(Vcpu& vcpu) {
  FT_ASSIGN_OR_RETURN(kvm_regs regs, vcpu.GetRegs());
  FT_ASSIGN_OR_RETURN(kvm_vcpu_events ev, vcpu.GetEvents());
  if (EventQueued(ev)) return Gate::kDefer;
  constexpr uint64_t kRflagsIf = 1u << 9;
  return (regs.rflags & kRflagsIf) != 0 && ev.interrupt.shadow == 0
             ? Gate::kInject
             : Gate::kWindow;
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
