#include "vmm/kvm/vcpu.h"

#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/check.h"
#include "common/status.h"
#include "vmm/kvm/kvm_abi.h"

namespace ft::vmm {
namespace {

template <typename T>
absl::StatusOr<T> GetState(int fd, unsigned long request, const char* name) {
  T value;
  std::memset(&value, 0, sizeof(value));
  if (::ioctl(fd, request, &value) < 0) return ErrnoStatus(errno, name);
  return value;
}

template <typename T>
absl::Status SetState(int fd, unsigned long request, const T& value,
                      const char* name) {
  if (::ioctl(fd, request, &value) < 0) return ErrnoStatus(errno, name);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Vcpu>> Vcpu::Create(const Vm& vm,
                                                   uint32_t index) {
  int fd = ::ioctl(vm.fd(), KVM_CREATE_VCPU, index);
  if (fd < 0) {
    return ErrnoStatus(errno, absl::StrCat("KVM_CREATE_VCPU ", index));
  }
  UniqueFd owned(fd);
  FT_ASSIGN_OR_RETURN(MappedRegion run_map,
                      MappedRegion::OfFile({.fd = fd,
                                            .size = vm.kvm().vcpu_mmap_size(),
                                            .writable = true,
                                            .shared = true}));
  const bool sync_regs =
      (vm.kvm().CheckExtension(KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS) != 0;
  return std::unique_ptr<Vcpu>(
      new Vcpu(index, std::move(owned), std::move(run_map), sync_regs));
}

Vcpu::Vcpu(uint32_t index, UniqueFd fd, MappedRegion run_map, bool sync_regs)
    : index_(index),
      fd_(std::move(fd)),
      run_map_(std::move(run_map)),
      run_(reinterpret_cast<kvm_run*>(run_map_.data())),
      sync_regs_(sync_regs) {
  // KVM then copies the general registers into kvm_run at every exit, so
  // positions can name their RIP without a KVM_GET_REGS per exit.
  if (sync_regs_) run_->kvm_valid_regs = KVM_SYNC_X86_REGS;
}

absl::StatusOr<VmExit> Vcpu::Run() {
  int r = ::ioctl(fd(), KVM_RUN, 0);
  int err = errno;
  // A kick must affect only the KVM_RUN it raced with, not the next one.
  run_->immediate_exit = 0;
  if (r < 0) {
    if (err == EINTR || err == EAGAIN) return InterruptedExit{};
    return ErrnoStatus(err, absl::StrCat("KVM_RUN on vCPU ", index_));
  }
  return Decode();
}

absl::Status Vcpu::CompletePendingIo() {
  run_->immediate_exit = 1;
  const int r = ::ioctl(fd(), KVM_RUN, 0);
  const int err = errno;
  run_->immediate_exit = 0;
  if (r < 0 && err != EINTR && err != EAGAIN) {
    return ErrnoStatus(
        err, absl::StrCat("KVM_RUN (completing I/O) on vCPU ", index_));
  }
  return absl::OkStatus();
}

VmExit Vcpu::Decode() {
  switch (run_->exit_reason) {
    case KVM_EXIT_IO: {
      const auto& io = run_->io;
      const uint64_t bytes = uint64_t{io.size} * io.count;
      // KVM is trusted, but a bad offset would make us scribble outside the
      // mapping, so check it like any other input.
      FT_CHECK(io.size == 1 || io.size == 2 || io.size == 4)
          << "bad PIO size " << int{io.size};
      FT_CHECK(io.data_offset <= run_map_.size() &&
               bytes <= run_map_.size() - io.data_offset)
          << "PIO data outside kvm_run";
      return PioExit{
          .port = io.port,
          .size = io.size,
          .count = io.count,
          .is_write = io.direction == KVM_EXIT_IO_OUT,
          .data = std::span<uint8_t>(run_map_.data() + io.data_offset, bytes),
      };
    }
    case KVM_EXIT_MMIO: {
      auto& mmio = run_->mmio;
      FT_CHECK(mmio.len >= 1 && mmio.len <= sizeof(mmio.data))
          << "bad MMIO length " << mmio.len;
      return MmioExit{
          .address = Gpa(mmio.phys_addr),
          .size = static_cast<uint8_t>(mmio.len),
          .is_write = mmio.is_write != 0,
          .data = std::span<uint8_t>(mmio.data, mmio.len),
      };
    }
    case KVM_EXIT_HLT:
      return HltExit{};
    case KVM_EXIT_INTR:
      return InterruptedExit{};
    case KVM_EXIT_SHUTDOWN:
      return ShutdownExit{};
    case KVM_EXIT_IRQ_WINDOW_OPEN:
      return IrqWindowOpenExit{};
    case KVM_EXIT_SYSTEM_EVENT:
      return SystemEventExit{.type = run_->system_event.type};
    case KVM_EXIT_FAIL_ENTRY:
      return FailEntryExit{.hardware_reason =
                               run_->fail_entry.hardware_entry_failure_reason};
    case KVM_EXIT_INTERNAL_ERROR: {
      InternalErrorExit e{.suberror = run_->internal.suberror};
      uint32_t n = std::min<uint32_t>(run_->internal.ndata, 16);
      e.data.assign(run_->internal.data, run_->internal.data + n);
      return e;
    }
    default:
      return UnknownExit{.reason = run_->exit_reason};
  }
}

absl::Status Vcpu::Interrupt(uint8_t vector) {
  kvm_interrupt irq{};
  irq.irq = vector;
  if (::ioctl(fd(), KVM_INTERRUPT, &irq) < 0) {
    return ErrnoStatus(errno, absl::StrCat("KVM_INTERRUPT vector ", int{vector},
                                           " on vCPU ", index_));
  }
  return absl::OkStatus();
}

absl::StatusOr<kvm_regs> Vcpu::GetRegs() const {
  return GetState<kvm_regs>(fd(), KVM_GET_REGS, "KVM_GET_REGS");
}
absl::Status Vcpu::SetRegs(const kvm_regs& regs) {
  return SetState(fd(), KVM_SET_REGS, regs, "KVM_SET_REGS");
}
absl::StatusOr<kvm_sregs> Vcpu::GetSregs() const {
  return GetState<kvm_sregs>(fd(), KVM_GET_SREGS, "KVM_GET_SREGS");
}
absl::Status Vcpu::SetSregs(const kvm_sregs& sregs) {
  return SetState(fd(), KVM_SET_SREGS, sregs, "KVM_SET_SREGS");
}
absl::StatusOr<kvm_fpu> Vcpu::GetFpu() const {
  return GetState<kvm_fpu>(fd(), KVM_GET_FPU, "KVM_GET_FPU");
}
absl::Status Vcpu::SetFpu(const kvm_fpu& fpu) {
  return SetState(fd(), KVM_SET_FPU, fpu, "KVM_SET_FPU");
}

absl::StatusOr<abi::Xsave> Vcpu::GetXsave() const {
  return GetState<abi::Xsave>(fd(), abi::kGetXsave, "KVM_GET_XSAVE");
}
absl::Status Vcpu::SetXsave(const abi::Xsave& xsave) {
  return SetState(fd(), abi::kSetXsave, xsave, "KVM_SET_XSAVE");
}
absl::StatusOr<kvm_xcrs> Vcpu::GetXcrs() const {
  return GetState<kvm_xcrs>(fd(), KVM_GET_XCRS, "KVM_GET_XCRS");
}
absl::Status Vcpu::SetXcrs(const kvm_xcrs& xcrs) {
  return SetState(fd(), KVM_SET_XCRS, xcrs, "KVM_SET_XCRS");
}
absl::StatusOr<kvm_vcpu_events> Vcpu::GetEvents() const {
  return GetState<kvm_vcpu_events>(fd(), KVM_GET_VCPU_EVENTS,
                                   "KVM_GET_VCPU_EVENTS");
}
absl::Status Vcpu::SetEvents(const kvm_vcpu_events& events) {
  return SetState(fd(), KVM_SET_VCPU_EVENTS, events, "KVM_SET_VCPU_EVENTS");
}
absl::StatusOr<kvm_debugregs> Vcpu::GetDebugRegs() const {
  return GetState<kvm_debugregs>(fd(), KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS");
}
absl::Status Vcpu::SetDebugRegs(const kvm_debugregs& regs) {
  return SetState(fd(), KVM_SET_DEBUGREGS, regs, "KVM_SET_DEBUGREGS");
}
absl::StatusOr<kvm_mp_state> Vcpu::GetMpState() const {
  return GetState<kvm_mp_state>(fd(), KVM_GET_MP_STATE, "KVM_GET_MP_STATE");
}
absl::Status Vcpu::SetMpState(const kvm_mp_state& state) {
  return SetState(fd(), KVM_SET_MP_STATE, state, "KVM_SET_MP_STATE");
}

absl::StatusOr<std::vector<kvm_msr_entry>> Vcpu::GetMsrs(
    const std::vector<uint32_t>& indices) const {
  const size_t bytes =
      sizeof(abi::MsrsHeader) + indices.size() * sizeof(kvm_msr_entry);
  auto buf = std::make_unique<uint8_t[]>(bytes);
  std::memset(buf.get(), 0, bytes);
  const abi::MsrsHeader header{.nmsrs = static_cast<uint32_t>(indices.size()),
                               .pad = 0};
  std::memcpy(buf.get(), &header, sizeof(header));
  auto* entries = reinterpret_cast<kvm_msr_entry*>(buf.get() + sizeof(header));
  for (size_t i = 0; i < indices.size(); ++i) entries[i].index = indices[i];
  const int n = ::ioctl(fd(), abi::kGetMsrs, buf.get());
  if (n < 0) return ErrnoStatus(errno, "KVM_GET_MSRS");
  if (static_cast<size_t>(n) != indices.size()) {
    return absl::InternalError(
        absl::StrFormat("KVM_GET_MSRS read %d of %u MSRs (MSR 0x%x failed)", n,
                        indices.size(), indices[n]));
  }
  return std::vector<kvm_msr_entry>(entries, entries + n);
}

absl::Status Vcpu::SetMsrs(const std::vector<kvm_msr_entry>& entries) {
  const size_t bytes =
      sizeof(abi::MsrsHeader) + entries.size() * sizeof(kvm_msr_entry);
  auto buf = std::make_unique<uint8_t[]>(bytes);
  const abi::MsrsHeader header{.nmsrs = static_cast<uint32_t>(entries.size()),
                               .pad = 0};
  std::memcpy(buf.get(), &header, sizeof(header));
  std::memcpy(buf.get() + sizeof(header), entries.data(),
              entries.size() * sizeof(kvm_msr_entry));
  const int n = ::ioctl(fd(), abi::kSetMsrs, buf.get());
  if (n < 0) return ErrnoStatus(errno, "KVM_SET_MSRS");
  if (static_cast<size_t>(n) != entries.size()) {
    return absl::InternalError(
        absl::StrFormat("KVM_SET_MSRS wrote %d of %u MSRs (MSR 0x%x refused)",
                        n, entries.size(), entries[n].index));
  }
  return absl::OkStatus();
}

absl::Status Vcpu::SetCpuid(const std::vector<kvm_cpuid_entry2>& entries) {
  const size_t bytes =
      sizeof(abi::Cpuid2Header) + entries.size() * sizeof(kvm_cpuid_entry2);
  auto buf = std::make_unique<uint8_t[]>(bytes);
  const abi::Cpuid2Header header{.nent = static_cast<uint32_t>(entries.size()),
                                 .padding = 0};
  std::memcpy(buf.get(), &header, sizeof(header));
  std::memcpy(buf.get() + sizeof(header), entries.data(),
              entries.size() * sizeof(kvm_cpuid_entry2));
  if (::ioctl(fd(), abi::kSetCpuid2, buf.get()) < 0) {
    return ErrnoStatus(errno, "KVM_SET_CPUID2");
  }
  return absl::OkStatus();
}

}  // namespace ft::vmm
