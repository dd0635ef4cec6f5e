// KvmStats: KVM's binary statistics for a VM or a vCPU (KVM_GET_STATS_FD):
// exits, emulated instructions, page faults, injected interrupts. Used by
// benchmarks and metrics, since exits dominate cost on nested hosts.
//
// Thread ownership: any thread; reads use pread on the stats fd.
#ifndef FTVM_VMM_KVM_KVM_STATS_H_
#define FTVM_VMM_KVM_KVM_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace ft::vmm {

class KvmStats {
 public:
  // `object_fd` is a VM or vCPU fd. Fails with Unimplemented on kernels
  // without KVM_CAP_BINARY_STATS_FD (before 5.14).
  static absl::StatusOr<KvmStats> Open(int object_fd);

  // Names of the scalar statistics (histograms are skipped).
  std::vector<std::string> Names() const;
  // The current value of `name` (NotFound if absent).
  absl::StatusOr<uint64_t> Read(const std::string& name) const;
  absl::StatusOr<std::map<std::string, uint64_t>> ReadAll() const;

 private:
  struct Desc {
    uint64_t data_offset;  // absolute offset in the fd
  };
  KvmStats(UniqueFd fd, std::map<std::string, Desc> descs)
      : fd_(std::move(fd)), descs_(std::move(descs)) {}

  UniqueFd fd_;
  std::map<std::string, Desc> descs_;
};

}  // namespace ft::vmm

#endif  // FTVM_VMM_KVM_KVM_STATS_H_
