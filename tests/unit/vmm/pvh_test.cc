// Tests for vmm/boot/pvh.h, against real (anonymous) guest memory.
#include "vmm/boot/pvh.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

GuestMemory MustCreate(uint64_t size) {
  absl::StatusOr<GuestMemory> mem = GuestMemory::Create({.size = size});
  EXPECT_TRUE(mem.ok()) << mem.status();
  return std::move(mem).value();
}

HvmStartInfo ReadInfo(const GuestMemory& mem) {
  absl::StatusOr<HvmStartInfo> info =
      mem.ReadObject<HvmStartInfo>(kPvhStartInfoAddress);
  EXPECT_TRUE(info.ok()) << info.status();
  return info.ok() ? *info : HvmStartInfo{};
}

std::vector<HvmMemmapEntry> ReadMap(const GuestMemory& mem,
                                    const HvmStartInfo& info) {
  std::vector<HvmMemmapEntry> map;
  for (uint32_t i = 0; i < info.memmap_entries; ++i) {
    absl::StatusOr<HvmMemmapEntry> e = mem.ReadObject<HvmMemmapEntry>(
        Gpa(info.memmap_paddr + i * sizeof(HvmMemmapEntry)));
    EXPECT_TRUE(e.ok()) << e.status();
    if (e.ok()) map.push_back(*e);
  }
  return map;
}

std::string ReadCmdline(const GuestMemory& mem, size_t len) {
  std::string s(len, '?');
  EXPECT_TRUE(
      mem.Read(kPvhCmdlineAddress,
               std::span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), len))
          .ok());
  return s;
}

void ExpectEntry(const HvmMemmapEntry& e, uint64_t addr, uint64_t size,
                 uint32_t type) {
  EXPECT_EQ(e.addr, addr);
  EXPECT_EQ(e.size, size);
  EXPECT_EQ(e.type, type);
  EXPECT_EQ(e.reserved, 0u);
}

TEST(WritePvhBootInfoTest, StartInfoAndMemmap64MiB) {
  GuestMemory mem = MustCreate(64 * kMiB);
  ASSERT_TRUE(mem.Fill(Gpa(0), 2 * kMiB, 0xcc).ok());  // dirty memory
  absl::StatusOr<Gpa> at = WritePvhBootInfo(mem, "console=ttyS0");
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(*at, kPvhStartInfoAddress);

  const HvmStartInfo info = ReadInfo(mem);
  EXPECT_EQ(info.magic, 0x336ec578u);
  EXPECT_EQ(info.version, 1u);
  EXPECT_EQ(info.flags, 0u);
  EXPECT_EQ(info.nr_modules, 0u);
  EXPECT_EQ(info.modlist_paddr, 0u);
  EXPECT_EQ(info.rsdp_paddr, 0u);
  EXPECT_EQ(info.cmdline_paddr, 0x8000u);
  EXPECT_EQ(info.memmap_paddr, 0x7040u);
  ASSERT_EQ(info.memmap_entries, 3u);

  const auto map = ReadMap(mem, info);
  ASSERT_EQ(map.size(), 3u);
  ExpectEntry(map[0], 0, 0x9fc00, 1);
  ExpectEntry(map[1], 0x9fc00, 0x100000 - 0x9fc00, 2);
  ExpectEntry(map[2], 0x100000, 64 * kMiB - 0x100000, 1);
}

TEST(WritePvhBootInfoTest, HighRegionAbove4GiB) {
  // 3.5 GiB: 3 GiB below the MMIO hole, 512 MiB at 4 GiB (MAP_NORESERVE).
  GuestMemory mem = MustCreate(3 * kGiB + 512 * kMiB);
  ASSERT_TRUE(WritePvhBootInfo(mem, "").ok());
  const HvmStartInfo info = ReadInfo(mem);
  ASSERT_EQ(info.memmap_entries, 4u);
  const auto map = ReadMap(mem, info);
  ASSERT_EQ(map.size(), 4u);
  ExpectEntry(map[0], 0, 0x9fc00, 1);
  ExpectEntry(map[1], 0x9fc00, 0x100000 - 0x9fc00, 2);
  ExpectEntry(map[2], 0x100000, GuestMemory::kLowRamEnd - 0x100000, 1);
  ExpectEntry(map[3], GuestMemory::kHighRamStart, 512 * kMiB, 1);
  // The map ends before the command line page.
  EXPECT_LE(info.memmap_paddr + 4 * sizeof(HvmMemmapEntry), info.cmdline_paddr);
  EXPECT_LE(kPvhStartInfoAddress.value() + sizeof(HvmStartInfo),
            info.memmap_paddr);
}

TEST(WritePvhBootInfoTest, CmdlineBytesAndNul) {
  GuestMemory mem = MustCreate(4 * kMiB);
  ASSERT_TRUE(mem.Fill(kPvhCmdlineAddress, 4096, 0xee).ok());
  const std::string cmdline = "console=ttyS0 panic=-1 root=/dev/vda";
  ASSERT_TRUE(WritePvhBootInfo(mem, cmdline).ok());
  EXPECT_EQ(ReadCmdline(mem, cmdline.size() + 1), cmdline + '\0');

  // A shorter command line written over a longer one leaves no tail.
  ASSERT_TRUE(WritePvhBootInfo(mem, "quiet").ok());
  const std::string page = ReadCmdline(mem, 4096);
  EXPECT_EQ(page.substr(0, 5), "quiet");
  EXPECT_EQ(page.find_first_not_of('\0', 5), std::string::npos);
}

TEST(WritePvhBootInfoTest, EmptyCmdlineIsJustNul) {
  GuestMemory mem = MustCreate(4 * kMiB);
  ASSERT_TRUE(mem.Fill(kPvhCmdlineAddress, 4096, 0xee).ok());
  ASSERT_TRUE(WritePvhBootInfo(mem, "").ok());
  EXPECT_EQ(ReadCmdline(mem, 1), std::string(1, '\0'));
}

TEST(WritePvhBootInfoTest, CmdlineLengthLimit) {
  GuestMemory mem = MustCreate(4 * kMiB);
  ASSERT_TRUE(mem.Fill(Gpa(0x9000), 16, 0xab).ok());  // the next page
  const std::string max(kPvhMaxCmdline, 'x');
  ASSERT_EQ(max.size(), 4095u);
  ASSERT_TRUE(WritePvhBootInfo(mem, max).ok());
  EXPECT_EQ(ReadCmdline(mem, 4096), max + '\0');
  // Nothing past the page was touched.
  absl::StatusOr<uint8_t> next = mem.ReadObject<uint8_t>(Gpa(0x9000));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 0xab);

  absl::StatusOr<Gpa> too_long = WritePvhBootInfo(mem, std::string(4096, 'x'));
  EXPECT_EQ(too_long.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(WritePvhBootInfoTest, EmbeddedNulRefused) {
  GuestMemory mem = MustCreate(4 * kMiB);
  absl::StatusOr<Gpa> at =
      WritePvhBootInfo(mem, std::string("console=ttyS0\0init=/x", 21));
  EXPECT_EQ(at.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(WritePvhBootInfo(mem, std::string(1, '\0')).ok());
}

TEST(WritePvhBootInfoTest, TooSmallMemoryRefused) {
  GuestMemory small = MustCreate(2 * kMiB - 4096);
  EXPECT_EQ(WritePvhBootInfo(small, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing was written.
  absl::StatusOr<uint32_t> magic =
      small.ReadObject<uint32_t>(kPvhStartInfoAddress);
  ASSERT_TRUE(magic.ok());
  EXPECT_EQ(*magic, 0u);

  GuestMemory exact = MustCreate(2 * kMiB);
  EXPECT_TRUE(WritePvhBootInfo(exact, "").ok());
}

// ---------------------------------------------------------------------------
// Entry state

kvm_sregs FreshSregs() {
  kvm_sregs s{};
  s.apic_base = 0xfee00900;
  s.cr0 = 0x60000010;  // reset value: CD | NW | ET
  s.cr2 = 0x1234;
  s.cr4 = 0x20;
  s.efer = 0x500;
  s.cs.selector = 0xf000;
  s.cs.base = 0xffff0000;
  s.interrupt_bitmap[1] = 0x42;
  return s;
}

void ExpectFlat32(const kvm_segment& s, uint8_t type) {
  EXPECT_EQ(s.base, 0u);
  EXPECT_EQ(s.limit, 0xffffffffu);
  EXPECT_EQ(s.type, type);
  EXPECT_EQ(s.present, 1);
  EXPECT_EQ(s.dpl, 0);
  EXPECT_EQ(s.db, 1);
  EXPECT_EQ(s.s, 1);
  EXPECT_EQ(s.l, 0);
  EXPECT_EQ(s.g, 1);
  EXPECT_EQ(s.unusable, 0);
}

TEST(MakePvhEntryStateTest, RegistersAndControl) {
  const PvhEntryState st =
      MakePvhEntryState(Gpa(0x1000000), kPvhStartInfoAddress, FreshSregs());
  EXPECT_EQ(st.regs.rip, 0x1000000u);
  EXPECT_EQ(st.regs.rbx, 0x7000u);
  EXPECT_EQ(st.regs.rflags, 0x2u);
  EXPECT_EQ(st.regs.rax, 0u);
  EXPECT_EQ(st.regs.rsp, 0u);
  EXPECT_EQ(st.sregs.cr0, 0x11u);
  EXPECT_EQ(st.sregs.cr3, 0u);
  EXPECT_EQ(st.sregs.cr4, 0u);
  EXPECT_EQ(st.sregs.efer, 0u);
  EXPECT_EQ(st.fpu.fcw, 0x37f);
  EXPECT_EQ(st.fpu.mxcsr, 0x1f80u);
}

TEST(MakePvhEntryStateTest, FlatSegments) {
  const PvhEntryState st =
      MakePvhEntryState(Gpa(0x200000), Gpa(0x7000), FreshSregs());
  ExpectFlat32(st.sregs.cs, 0xb);
  EXPECT_EQ(st.sregs.cs.selector, 0x10);
  for (const kvm_segment* s :
       {&st.sregs.ds, &st.sregs.es, &st.sregs.fs, &st.sregs.gs, &st.sregs.ss}) {
    ExpectFlat32(*s, 0x3);
    EXPECT_EQ(s->selector, 0x18);
  }
  EXPECT_EQ(st.sregs.tr.present, 1);
  EXPECT_EQ(st.sregs.tr.type, 0xb);  // busy 32-bit TSS, as VMX requires
  EXPECT_EQ(st.sregs.ldt.present, 1);
  EXPECT_EQ(st.sregs.gdt.base, 0u);
  EXPECT_EQ(st.sregs.idt.limit, 0u);
}

TEST(MakePvhEntryStateTest, KeepsBaseFields) {
  const kvm_sregs base = FreshSregs();
  const PvhEntryState st = MakePvhEntryState(Gpa(0x200000), Gpa(0x7000), base);
  EXPECT_EQ(st.sregs.apic_base, 0xfee00900u);
  EXPECT_EQ(st.sregs.cr2, 0x1234u);
  EXPECT_EQ(std::memcmp(st.sregs.interrupt_bitmap, base.interrupt_bitmap,
                        sizeof(base.interrupt_bitmap)),
            0);
}

}  // namespace
}  // namespace ft::vmm
