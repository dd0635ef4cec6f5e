// VmExit: one KVM_RUN exit, decoded once from kvm_run into a typed value.
//
// I/O exits carry a span into the vCPU's kvm_run area: for reads the handler
// fills it, and KVM completes the guest instruction on the next KVM_RUN. The
// span is valid until that next KVM_RUN of the same vCPU.
#ifndef FTVM_VMM_KVM_VM_EXIT_H_
#define FTVM_VMM_KVM_VM_EXIT_H_

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/strong_types.h"

namespace ft::vmm {

// Port I/O (IN/OUT, and INS/OUTS with count > 1: `data` then holds
// count * size bytes, element i at i * size).
struct PioExit {
  uint16_t port = 0;
  uint8_t size = 0;  // 1, 2 or 4
  uint32_t count = 0;
  bool is_write = false;
  std::span<uint8_t> data;
};

// A guest access to guest-physical memory that is not RAM.
struct MmioExit {
  Gpa address;
  uint8_t size = 0;  // 1..8
  bool is_write = false;
  std::span<uint8_t> data;
};

struct HltExit {};
// KVM_RUN returned without a guest-initiated exit: a signal, immediate_exit
// or KVM_EXIT_INTR. Never a replay position.
struct InterruptedExit {};
// Triple fault or similar: the guest is dead.
struct ShutdownExit {};
struct IrqWindowOpenExit {};
struct SystemEventExit {
  uint32_t type = 0;  // KVM_SYSTEM_EVENT_*
};
struct FailEntryExit {
  uint64_t hardware_reason = 0;
};
struct InternalErrorExit {
  uint32_t suberror = 0;
  std::vector<uint64_t> data;
};
struct UnknownExit {
  uint32_t reason = 0;
};

using VmExit = std::variant<PioExit, MmioExit, HltExit, InterruptedExit,
                            ShutdownExit, IrqWindowOpenExit, SystemEventExit,
                            FailEntryExit, InternalErrorExit, UnknownExit>;

// A one-line description for logs and error messages.
std::string DescribeExit(const VmExit& exit);

}  // namespace ft::vmm

#endif  // FTVM_VMM_KVM_VM_EXIT_H_
