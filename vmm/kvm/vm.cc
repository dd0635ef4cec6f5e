#include "vmm/kvm/vm.h"

#include <sys/ioctl.h>

#include <bit>
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

absl::Status Vm::MapMemory(const GuestMemory& memory, MapOptions options) {
  log_dirty_ = options.log_dirty;
  const int max_slots = kvm_->CheckExtension(KVM_CAP_NR_MEMSLOTS);
  for (const GuestMemory::Region& region : memory.regions()) {
    if (static_cast<int>(next_slot_) >= max_slots) {
      return absl::ResourceExhaustedError(
          absl::StrCat("KVM allows only ", max_slots, " memory slots"));
    }
    kvm_userspace_memory_region slot{
        .slot = next_slot_,
        .flags = options.log_dirty ? uint32_t{KVM_MEM_LOG_DIRTY_PAGES} : 0,
        .guest_phys_addr = region.base.value(),
        .memory_size = region.size(),
        .userspace_addr = reinterpret_cast<uint64_t>(region.mapping.data()),
    };
    if (::ioctl(fd(), KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
      return ErrnoStatus(
          errno, absl::StrFormat("KVM_SET_USER_MEMORY_REGION slot %u at 0x%x",
                                 next_slot_, region.base.value()));
    }
    slots_.push_back({next_slot_, region.base.value(), region.size()});
    ++next_slot_;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> Vm::TakeDirtyPages() {
  if (!log_dirty_) {
    return absl::FailedPreconditionError(
        "dirty-page tracking is off (MapMemory without log_dirty)");
  }
  std::vector<uint64_t> gfns;
  for (const Slot& slot : slots_) {
    const uint64_t pages = slot.size / 4096;
    std::vector<uint64_t> bitmap((pages + 63) / 64, 0);
    kvm_dirty_log log{};
    log.slot = slot.id;
    log.dirty_bitmap = bitmap.data();
    if (::ioctl(fd(), KVM_GET_DIRTY_LOG, &log) < 0) {
      return ErrnoStatus(errno,
                         absl::StrFormat("KVM_GET_DIRTY_LOG slot %u", slot.id));
    }
    const uint64_t first_gfn = slot.base / 4096;
    for (size_t w = 0; w < bitmap.size(); ++w) {
      for (uint64_t bits = bitmap[w]; bits != 0; bits &= bits - 1) {
        gfns.push_back(first_gfn + w * 64 + std::countr_zero(bits));
      }
    }
  }
  return gfns;
}

}  // namespace ft::vmm
