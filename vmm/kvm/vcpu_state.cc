#include "vmm/kvm/vcpu_state.h"

#include <cstring>

#include "common/status.h"

namespace ft::vmm {

const std::vector<uint32_t>& SnapshotMsrIndices() {
  static const auto* indices = new std::vector<uint32_t>{
      0x174,       // IA32_SYSENTER_CS
      0x175,       // IA32_SYSENTER_ESP
      0x176,       // IA32_SYSENTER_EIP
      0x277,       // IA32_PAT
      0x1a0,       // IA32_MISC_ENABLE
      0xc0000081,  // STAR
      0xc0000082,  // LSTAR
      0xc0000083,  // CSTAR
      0xc0000084,  // SFMASK
      0xc0000102,  // KERNEL_GS_BASE
      0xc0000103,  // TSC_AUX
  };
  return *indices;
}

absl::StatusOr<VcpuSnapshot> SaveVcpu(Vcpu& vcpu) {
  // The registers are final only once KVM has completed the last exit.
  FT_RETURN_IF_ERROR(vcpu.CompletePendingIo());
  VcpuSnapshot s;
  FT_ASSIGN_OR_RETURN(s.mp_state, vcpu.GetMpState());
  FT_ASSIGN_OR_RETURN(s.regs, vcpu.GetRegs());
  FT_ASSIGN_OR_RETURN(s.sregs, vcpu.GetSregs());
  FT_ASSIGN_OR_RETURN(s.fpu, vcpu.GetFpu());
  FT_ASSIGN_OR_RETURN(s.xsave, vcpu.GetXsave());
  FT_ASSIGN_OR_RETURN(s.xcrs, vcpu.GetXcrs());
  FT_ASSIGN_OR_RETURN(s.debugregs, vcpu.GetDebugRegs());
  FT_ASSIGN_OR_RETURN(s.msrs, vcpu.GetMsrs(SnapshotMsrIndices()));
  FT_ASSIGN_OR_RETURN(s.events, vcpu.GetEvents());
  return s;
}

absl::Status RestoreVcpu(Vcpu& vcpu, const VcpuSnapshot& s) {
  // Otherwise KVM would complete the last exit into the restored state.
  FT_RETURN_IF_ERROR(vcpu.CompletePendingIo());
  FT_RETURN_IF_ERROR(vcpu.SetMpState(s.mp_state));
  // Segments and control registers first: they decide how the rest reads.
  FT_RETURN_IF_ERROR(vcpu.SetSregs(s.sregs));
  FT_RETURN_IF_ERROR(vcpu.SetRegs(s.regs));
  FT_RETURN_IF_ERROR(vcpu.SetXcrs(s.xcrs));
  FT_RETURN_IF_ERROR(vcpu.SetXsave(s.xsave));
  FT_RETURN_IF_ERROR(vcpu.SetFpu(s.fpu));
  FT_RETURN_IF_ERROR(vcpu.SetDebugRegs(s.debugregs));
  FT_RETURN_IF_ERROR(vcpu.SetMsrs(s.msrs));
  kvm_vcpu_events events = s.events;
  // Restore exactly what was saved, including NMI and SMI state.
  events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
  return vcpu.SetEvents(events);
}

namespace {

// FNV-1a, 64-bit: a digest to compare, not a defence against an attacker.
class Fnv {
 public:
  void Add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) h_ = (h_ ^ p[i]) * 0x100000001b3ull;
  }
  template <typename T>
  void AddValue(const T& v) {
    Add(&v, sizeof(v));
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

void AddSegment(Fnv& f, const kvm_segment& s) {
  f.AddValue(s.base);
  f.AddValue(s.limit);
  f.AddValue(s.selector);
  f.AddValue(s.type);
  f.AddValue(s.dpl);
  f.AddValue(s.present);
  f.AddValue(s.l);
  f.AddValue(s.db);
}

}  // namespace

uint64_t RegistersDigest(const VcpuSnapshot& s) {
  Fnv f;
  f.AddValue(s.regs);  // plain u64 fields, no padding
  const kvm_sregs& sr = s.sregs;
  for (const kvm_segment* seg :
       {&sr.cs, &sr.ds, &sr.es, &sr.fs, &sr.gs, &sr.ss, &sr.tr, &sr.ldt}) {
    AddSegment(f, *seg);
  }
  f.AddValue(sr.gdt.base);
  f.AddValue(sr.gdt.limit);
  f.AddValue(sr.idt.base);
  f.AddValue(sr.idt.limit);
  f.AddValue(sr.cr0);
  f.AddValue(sr.cr2);
  f.AddValue(sr.cr3);
  f.AddValue(sr.cr4);
  f.AddValue(sr.efer);
  // The legacy and SSE register file as the FPU view shows it.
  f.Add(s.fpu.fpr, sizeof(s.fpu.fpr));
  f.AddValue(s.fpu.fcw);
  f.AddValue(s.fpu.fsw);
  f.Add(s.fpu.xmm, sizeof(s.fpu.xmm));
  f.AddValue(s.fpu.mxcsr);
  return f.value();
}

}  // namespace ft::vmm
