#include "vmm/boot/pvh.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ft::vmm {
namespace {

constexpr uint32_t kE820Ram = 1;
constexpr uint32_t kE820Reserved = 2;
// Conventional memory ends where the EBDA and legacy video/ROM area start.
constexpr uint64_t kConventionalEnd = 0x9fc00;
constexpr uint64_t kHighMemoryStart = 0x100000;

kvm_segment FlatSegment(uint16_t selector, uint8_t type) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xffffffff;
  s.selector = selector;
  s.type = type;
  s.present = 1;
  s.dpl = 0;
  s.db = 1;  // 32-bit
  s.s = 1;   // code/data
  s.l = 0;
  s.g = 1;  // 4 KiB granularity
  return s;
}

}  // namespace

absl::StatusOr<Gpa> WritePvhBootInfo(const GuestMemory& memory,
                                     const std::string& cmdline) {
  if (cmdline.size() > kPvhMaxCmdline) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel command line is ", cmdline.size(),
                     " bytes; the limit is ", kPvhMaxCmdline));
  }
  if (cmdline.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("kernel command line contains a NUL");
  }
  if (memory.size() < 2 * kHighMemoryStart) {
    return absl::InvalidArgumentError(
        "guest memory must be at least 2 MiB for a PVH boot");
  }

  // The low region starts at 0 and is at least 2 MiB (checked above).
  std::vector<HvmMemmapEntry> map;
  map.push_back({0, kConventionalEnd, kE820Ram, 0});
  map.push_back({kConventionalEnd, kHighMemoryStart - kConventionalEnd,
                 kE820Reserved, 0});
  for (const GuestMemory::Region& r : memory.regions()) {
    uint64_t start =
        r.base.value() < kHighMemoryStart ? kHighMemoryStart : r.base.value();
    map.push_back({start, r.end() - start, kE820Ram, 0});
  }
  if (kPvhMemmapAddress.value() + map.size() * sizeof(HvmMemmapEntry) >
      kPvhCmdlineAddress.value()) {
    return absl::InternalError("PVH memory map does not fit its slot");
  }

  HvmStartInfo info{};
  info.magic = kPvhStartMagic;
  info.version = 1;
  info.cmdline_paddr = kPvhCmdlineAddress.value();
  info.memmap_paddr = kPvhMemmapAddress.value();
  info.memmap_entries = static_cast<uint32_t>(map.size());

  FT_RETURN_IF_ERROR(memory.WriteObject(kPvhStartInfoAddress, info));
  FT_RETURN_IF_ERROR(memory.Write(
      kPvhMemmapAddress,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(map.data()),
                               map.size() * sizeof(HvmMemmapEntry))));
  FT_RETURN_IF_ERROR(memory.Fill(kPvhCmdlineAddress, kPvhMaxCmdline + 1, 0));
  FT_RETURN_IF_ERROR(memory.Write(
      kPvhCmdlineAddress,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(cmdline.data()),
                               cmdline.size())));
  return kPvhStartInfoAddress;
}

PvhEntryState MakePvhEntryState(Gpa entry, Gpa start_info,
                                const kvm_sregs& base) {
  PvhEntryState st{};
  st.regs.rip = entry.value();
  st.regs.rbx = start_info.value();
  st.regs.rflags = 0x2;  // reserved bit 1; IF clear

  st.sregs = base;
  st.sregs.cs = FlatSegment(0x10, 0xb);             // execute/read, accessed
  const kvm_segment data = FlatSegment(0x18, 0x3);  // read/write, accessed
  st.sregs.ds = data;
  st.sregs.es = data;
  st.sregs.fs = data;
  st.sregs.gs = data;
  st.sregs.ss = data;
  // VMX requires a usable busy TSS in TR even though the guest never uses
  // this one; the guest loads its own.
  kvm_segment tr{};
  tr.limit = 0x67;
  tr.type = 0xb;
  tr.present = 1;
  st.sregs.tr = tr;
  kvm_segment ldt{};
  ldt.type = 0x2;
  ldt.present = 1;
  ldt.limit = 0xffff;
  st.sregs.ldt = ldt;
  st.sregs.gdt = {};
  st.sregs.idt = {};
  st.sregs.cr0 = 0x11;  // PE | ET
  st.sregs.cr3 = 0;
  st.sregs.cr4 = 0;
  st.sregs.efer = 0;

  st.fpu.fcw = 0x37f;     // x87 default control word
  st.fpu.mxcsr = 0x1f80;  // all SSE exceptions masked
  return st;
}

}  // namespace ft::vmm
