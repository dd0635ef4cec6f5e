// KvmSystem: the opened /dev/kvm, checked for the API version and every
// capability ftvm uses, before any VM is created.
//
// Thread ownership: immutable after Open(); safe to share read-only.
#ifndef FTVM_VMM_KVM_KVM_SYSTEM_H_
#define FTVM_VMM_KVM_KVM_SYSTEM_H_

#include <linux/kvm.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace ft::vmm {

class KvmSystem {
 public:
  struct Options {
    std::string device = "/dev/kvm";
  };

  // Opens the device and verifies KVM_GET_API_VERSION == 12 and the
  // capabilities in RequiredCapabilities(). Errors tell the user what to do.
  static absl::StatusOr<KvmSystem> Open(const Options& options);

  KvmSystem(KvmSystem&&) = default;
  KvmSystem& operator=(KvmSystem&&) = default;

  int fd() const { return fd_.get(); }
  // Size of the per-vCPU kvm_run mapping.
  size_t vcpu_mmap_size() const { return vcpu_mmap_size_; }
  // KVM_CHECK_EXTENSION: 0 when absent, otherwise the capability's value.
  int CheckExtension(int capability) const;
  // KVM_GET_SUPPORTED_CPUID, cached at Open().
  const std::vector<kvm_cpuid_entry2>& supported_cpuid() const {
    return supported_cpuid_;
  }

  struct Capability {
    int id;
    const char* name;
    const char* why;
  };
  static const std::vector<Capability>& RequiredCapabilities();

 private:
  KvmSystem() = default;
  absl::Status LoadSupportedCpuid();

  UniqueFd fd_;
  size_t vcpu_mmap_size_ = 0;
  std::vector<kvm_cpuid_entry2> supported_cpuid_;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_KVM_KVM_SYSTEM_H_
