#include "vmm/kvm/kvm_system.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "vmm/kvm/kvm_abi.h"

namespace ft::vmm {
namespace {

constexpr int kKvmApiVersion = 12;
// KVM reports at most a few hundred CPUID entries; grow up to this bound.
constexpr int kMaxCpuidEntries = 4096;

absl::Status OpenError(int err, const std::string& device) {
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(absl::StrCat(
          device,
          " does not exist: this host has no KVM. Enable virtualization "
          "(VT-x/AMD-V) in the firmware and load kvm_intel or kvm_amd, or "
          "enable nested virtualization if this is itself a VM."));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(absl::StrCat(
          "permission denied opening ", device,
          ": run as root or add your user to the group that owns it "
          "(usually 'kvm')."));
    default:
      return ErrnoStatus(err, absl::StrCat("opening ", device));
  }
}

}  // namespace

const std::vector<KvmSystem::Capability>& KvmSystem::RequiredCapabilities() {
  static const auto* caps = new std::vector<Capability>{
      {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM in user memory"},
      {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR",
       "real-mode TSS for VMX guests"},
      {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "programming the guest CPUID"},
      {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT",
       "kicking a vCPU out of KVM_RUN without losing the request"},
      {KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS", "memory slots"},
  };
  return *caps;
}

absl::StatusOr<KvmSystem> KvmSystem::Open(const Options& options) {
  KvmSystem kvm;
  kvm.fd_.Reset(::open(options.device.c_str(), O_RDWR | O_CLOEXEC));
  if (!kvm.fd_) return OpenError(errno, options.device);

  int version = ::ioctl(kvm.fd(), KVM_GET_API_VERSION, 0);
  if (version != kKvmApiVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.device, " reports KVM API version ", version, "; ftvm needs ",
        kKvmApiVersion, ". Use a Linux kernel from 2.6.22 or later."));
  }
  for (const Capability& cap : RequiredCapabilities()) {
    if (kvm.CheckExtension(cap.id) <= 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "this kernel's KVM lacks ", cap.name, " (needed for ", cap.why,
          "); use a newer kernel (ftvm is developed on Linux 6.x)."));
    }
  }
  int mmap_size = ::ioctl(kvm.fd(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (mmap_size < static_cast<int>(sizeof(kvm_run))) {
    return ErrnoStatus(errno, "KVM_GET_VCPU_MMAP_SIZE");
  }
  kvm.vcpu_mmap_size_ = static_cast<size_t>(mmap_size);
  FT_RETURN_IF_ERROR(kvm.LoadSupportedCpuid());
  return kvm;
}

int KvmSystem::CheckExtension(int capability) const {
  int r = ::ioctl(fd(), KVM_CHECK_EXTENSION, capability);
  return r < 0 ? 0 : r;
}

absl::Status KvmSystem::LoadSupportedCpuid() {
  // KVM fails with E2BIG until the buffer is large enough.
  for (int n = 64; n <= kMaxCpuidEntries; n *= 2) {
    const size_t bytes =
        sizeof(abi::Cpuid2Header) + n * sizeof(kvm_cpuid_entry2);
    auto buf = std::make_unique<uint8_t[]>(bytes);  // zeroed
    abi::Cpuid2Header header{.nent = static_cast<uint32_t>(n), .padding = 0};
    std::memcpy(buf.get(), &header, sizeof(header));
    if (::ioctl(fd(), abi::kGetSupportedCpuid, buf.get()) == 0) {
      std::memcpy(&header, buf.get(), sizeof(header));
      supported_cpuid_.resize(std::min<uint32_t>(header.nent, n));
      std::memcpy(supported_cpuid_.data(), buf.get() + sizeof(header),
                  supported_cpuid_.size() * sizeof(kvm_cpuid_entry2));
      return absl::OkStatus();
    }
    if (errno != E2BIG) return ErrnoStatus(errno, "KVM_GET_SUPPORTED_CPUID");
  }
  return absl::InternalError("KVM_GET_SUPPORTED_CPUID: too many entries");
}

}  // namespace ft::vmm
