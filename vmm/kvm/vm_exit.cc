#include "vmm/kvm/vm_exit.h"

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace ft::vmm {
namespace {

struct Describer {
  std::string operator()(const PioExit& e) const {
    return absl::StrFormat("pio %s port=0x%x size=%u count=%u",
                           e.is_write ? "out" : "in", e.port, e.size, e.count);
  }
  std::string operator()(const MmioExit& e) const {
    return absl::StrFormat("mmio %s addr=0x%x size=%u",
                           e.is_write ? "write" : "read", e.address.value(),
                           e.size);
  }
  std::string operator()(const HltExit&) const { return "hlt"; }
  std::string operator()(const InterruptedExit&) const { return "interrupted"; }
  std::string operator()(const ShutdownExit&) const {
    return "shutdown (triple fault)";
  }
  std::string operator()(const IrqWindowOpenExit&) const {
    return "irq window open";
  }
  std::string operator()(const SystemEventExit& e) const {
    return absl::StrFormat("system event type=%u", e.type);
  }
  std::string operator()(const FailEntryExit& e) const {
    return absl::StrFormat("VM entry failed, hardware reason=0x%x",
                           e.hardware_reason);
  }
  std::string operator()(const InternalErrorExit& e) const {
    return absl::StrFormat(
        "KVM internal error suberror=%u data=[%s]", e.suberror,
        absl::StrJoin(e.data, ",", [](std::string* out, uint64_t v) {
          absl::StrAppendFormat(out, "0x%x", v);
        }));
  }
  std::string operator()(const UnknownExit& e) const {
    return absl::StrFormat("unknown exit reason %u", e.reason);
  }
};

}  // namespace

std::string DescribeExit(const VmExit& exit) {
  return std::visit(Describer{}, exit);
}

}  // namespace ft::vmm
