// Vm: one KVM virtual machine (the fd from KVM_CREATE_VM) and its memory
// slots. vCPUs are created from it (see vcpu.h).
//
// Thread ownership: configured by the thread that builds the machine, before
// any vCPU runs.
#ifndef FTVM_VMM_KVM_VM_H_
#define FTVM_VMM_KVM_VM_H_

#include <cstdint>
#include <memory>

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

  // Registers every region of `memory` as a KVM memory slot. `memory` must
  // outlive the Vm.
  absl::Status MapMemory(const GuestMemory& memory);

  int fd() const { return fd_.get(); }
  const KvmSystem& kvm() const { return *kvm_; }

 private:
  Vm(const KvmSystem& kvm, UniqueFd fd) : kvm_(&kvm), fd_(std::move(fd)) {}

  const KvmSystem* kvm_;
  UniqueFd fd_;
  uint32_t next_slot_ = 0;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_KVM_VM_H_
