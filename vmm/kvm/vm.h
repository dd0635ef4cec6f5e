// Vm: one KVM virtual machine (the fd from KVM_CREATE_VM) and its memory
// slots. vCPUs are created from it (see vcpu.h).
//
// Thread ownership: configured by the thread that builds the machine, before
// any vCPU runs.
#ifndef FTVM_VMM_KVM_VM_H_
#define FTVM_VMM_KVM_VM_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "vmm/kvm/kvm_system.h"
#include "vmm/memory/guest_memory.h"

namespace ft::vmm {

class Vm {
 public:
  // Guest-physical pages KVM needs for VMX real-mode emulation; placed in
  // the MMIO hole where no RAM or device lives.
  static constexpr uint64_t kTssAddress = 0xfffb'd000;
  static constexpr uint64_t kIdentityMapAddress = 0xfffb'c000;

  static absl::StatusOr<std::unique_ptr<Vm>> Create(const KvmSystem& kvm);

  struct MapOptions {
    // Track guest writes (KVM_MEM_LOG_DIRTY_PAGES) for TakeDirtyPages:
    // micro-checkpoints and migration. The first guest write to a page
    // after each harvest then costs a fault (PLATFORM.md: 22-31 us here).
    bool log_dirty = false;
  };
  // Registers every region of `memory` as a KVM memory slot. `memory` must
  // outlive the Vm.
  absl::Status MapMemory(const GuestMemory& memory, MapOptions options);
  absl::Status MapMemory(const GuestMemory& memory) {
    return MapMemory(memory, MapOptions{});
  }

  // The guest frame numbers (GPA / 4096) of the pages the guest wrote since
  // the previous call (or since MapMemory), ascending, and re-arms tracking.
  // Only with log_dirty. KVM may over-report (a page only read) but never
  // misses a guest write; the VMM's own writes into guest memory (device
  // DMA) are NOT reported. Not while a vCPU of this VM is in KVM_RUN on
  // another thread, if the caller needs the set to be exact at a point.
  absl::StatusOr<std::vector<uint64_t>> TakeDirtyPages();

  int fd() const { return fd_.get(); }
  const KvmSystem& kvm() const { return *kvm_; }

 private:
  Vm(const KvmSystem& kvm, UniqueFd fd) : kvm_(&kvm), fd_(std::move(fd)) {}

  const KvmSystem* kvm_;
  UniqueFd fd_;
  struct Slot {
    uint32_t id;
    uint64_t base;  // guest physical
    uint64_t size;
  };
  uint32_t next_slot_ = 0;
  bool log_dirty_ = false;
  std::vector<Slot> slots_;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_KVM_VM_H_
