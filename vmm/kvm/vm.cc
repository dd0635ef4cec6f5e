#include "vmm/kvm/vm.h"

#include <sys/ioctl.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace ft::vmm {

absl::StatusOr<std::unique_ptr<Vm>> Vm::Create(const KvmSystem& kvm) {
  int fd;
  do {
    fd = ::ioctl(kvm.fd(), KVM_CREATE_VM, 0);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return ErrnoStatus(errno,
                       "KVM_CREATE_VM (is another hypervisor holding VT-x, or "
                       "is the host out of memory?)");
  }
  std::unique_ptr<Vm> vm(new Vm(kvm, UniqueFd(fd)));
  if (::ioctl(vm->fd(), KVM_SET_TSS_ADDR, kTssAddress) < 0) {
    return ErrnoStatus(errno, "KVM_SET_TSS_ADDR");
  }
  uint64_t identity = kIdentityMapAddress;
  if (::ioctl(vm->fd(), KVM_SET_IDENTITY_MAP_ADDR, &identity) < 0) {
    return ErrnoStatus(errno, "KVM_SET_IDENTITY_MAP_ADDR");
  }
  return vm;
}

absl::Status Vm::MapMemory(const GuestMemory& memory) {
  const int max_slots = kvm_->CheckExtension(KVM_CAP_NR_MEMSLOTS);
  for (const GuestMemory::Region& region : memory.regions()) {
    if (static_cast<int>(next_slot_) >= max_slots) {
      return absl::ResourceExhaustedError(
          absl::StrCat("KVM allows only ", max_slots, " memory slots"));
    }
    kvm_userspace_memory_region slot{
        .slot = next_slot_,
        .flags = 0,
        .guest_phys_addr = region.base.value(),
        .memory_size = region.size(),
        .userspace_addr = reinterpret_cast<uint64_t>(region.mapping.data()),
    };
    if (::ioctl(fd(), KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
      return ErrnoStatus(
          errno, absl::StrFormat("KVM_SET_USER_MEMORY_REGION slot %u at 0x%x",
                                 next_slot_, region.base.value()));
    }
    ++next_slot_;
  }
  return absl::OkStatus();
}

}  // namespace ft::vmm
