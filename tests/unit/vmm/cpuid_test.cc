// Tests for vmm/kvm/cpuid.h.
#include "vmm/kvm/cpuid.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

kvm_cpuid_entry2 Leaf(uint32_t function, uint32_t index, uint32_t eax,
                      uint32_t ebx, uint32_t ecx, uint32_t edx,
                      uint32_t flags = 0) {
  kvm_cpuid_entry2 e{};
  e.function = function;
  e.index = index;
  e.flags = flags;
  e.eax = eax;
  e.ebx = ebx;
  e.ecx = ecx;
  e.edx = edx;
  return e;
}

bool SameEntry(const kvm_cpuid_entry2& a, const kvm_cpuid_entry2& b) {
  return a.function == b.function && a.index == b.index && a.flags == b.flags &&
         a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}

std::string Word(uint32_t w) {
  std::string s(4, '\0');
  std::memcpy(s.data(), &w, 4);
  return s;
}

// A plausible KVM_GET_SUPPORTED_CPUID result, with KVM's own paravirtual
// leaves included.
std::vector<kvm_cpuid_entry2> Supported() {
  constexpr uint32_t kSignificant = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
  return {
      Leaf(0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69),
      // EBX: APIC ID 0x7f, 0x22 logical, CLFLUSH 8, brand 0x05.
      Leaf(1, 0, 0x000906ea, 0x7f220805, 0x7ffafbbf, 0xbfebfbff),
      Leaf(7, 0, 0, 0x029c6fbf, 0x40000000, 0xbc000400, kSignificant),
      Leaf(0xb, 0, 1, 2, 0x100, 0xee, kSignificant),
      Leaf(0xb, 1, 4, 8, 0x201, 0xee, kSignificant),
      Leaf(0x1f, 0, 1, 2, 0x100, 0xee, kSignificant),
      Leaf(0x40000000, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
      Leaf(0x40000001, 0, 0x01007afb, 0, 0, 0),
      Leaf(0x40000010, 0, 1, 2, 3, 4),
      Leaf(0x400000ff, 0, 5, 6, 7, 8),
      Leaf(0x40000100, 0, 9, 10, 11, 12),  // outside the replaced range
      Leaf(0x80000000, 0, 0x80000008, 0, 0, 0),
      Leaf(0x80000001, 0, 0, 0, 0x121, 0x2c100800),
  };
}

const kvm_cpuid_entry2* Find(const std::vector<kvm_cpuid_entry2>& v,
                             uint32_t function, uint32_t index = 0) {
  for (const auto& e : v) {
    if (e.function == function && e.index == index) return &e;
  }
  return nullptr;
}

TEST(BuildGuestCpuidTest, Leaf1ApicIdLogicalCountAndHypervisorBit) {
  const auto out =
      BuildGuestCpuid(Supported(), {.vcpu_index = 3, .vcpu_count = 4});
  const kvm_cpuid_entry2* l1 = Find(out, 1);
  ASSERT_NE(l1, nullptr);
  EXPECT_EQ(l1->ebx >> 24, 3u);           // initial APIC ID
  EXPECT_EQ((l1->ebx >> 16) & 0xff, 4u);  // logical processors
  EXPECT_EQ(l1->ebx & 0xffff, 0x0805u);   // CLFLUSH size and brand kept
  EXPECT_EQ(l1->ecx, 0x7ffafbbfu | 0x80000000u);
  EXPECT_EQ(l1->eax, 0x000906eau);
  EXPECT_EQ(l1->edx, 0xbfebfbffu);
}

TEST(BuildGuestCpuidTest, Leaf1ForFirstOfOne) {
  const auto out = BuildGuestCpuid(Supported(), {});
  const kvm_cpuid_entry2* l1 = Find(out, 1);
  ASSERT_NE(l1, nullptr);
  EXPECT_EQ(l1->ebx, 0x00010805u);
  EXPECT_NE(l1->ecx & 0x80000000u, 0u);
}

TEST(BuildGuestCpuidTest, X2ApicIdInLeaf0bAnd1f) {
  const auto out =
      BuildGuestCpuid(Supported(), {.vcpu_index = 5, .vcpu_count = 8});
  const std::pair<uint32_t, uint32_t> leaves[] = {
      {0xb, 0}, {0xb, 1}, {0x1f, 0}};
  for (auto [fn, idx] : leaves) {
    const kvm_cpuid_entry2* e = Find(out, fn, idx);
    ASSERT_NE(e, nullptr) << fn << "/" << idx;
    EXPECT_EQ(e->edx, 5u);
  }
  const kvm_cpuid_entry2* b1 = Find(out, 0xb, 1);
  EXPECT_EQ(b1->eax, 4u);  // the topology shifts are passed through
  EXPECT_EQ(b1->ebx, 8u);
  EXPECT_EQ(b1->ecx, 0x201u);
}

TEST(BuildGuestCpuidTest, HypervisorLeavesReplacedBySignature) {
  const auto out = BuildGuestCpuid(Supported(), {});
  int hv_leaves = 0;
  for (const auto& e : out) {
    if (e.function >= 0x40000000 && e.function <= 0x400000ff) {
      ++hv_leaves;
      EXPECT_EQ(e.function, 0x40000000u);
    }
  }
  EXPECT_EQ(hv_leaves, 1);
  const kvm_cpuid_entry2* hv = Find(out, 0x40000000);
  ASSERT_NE(hv, nullptr);
  EXPECT_EQ(hv->eax, 0x40000000u);
  EXPECT_EQ(Word(hv->ebx) + Word(hv->ecx) + Word(hv->edx), "ftvmftvmftvm");
  EXPECT_EQ(std::string(kHypervisorSignature), "ftvmftvmftvm");
  EXPECT_EQ(hv->index, 0u);
  EXPECT_EQ(hv->flags, 0u);
  // KVM's feature leaf is gone.
  EXPECT_EQ(Find(out, 0x40000001), nullptr);
}

TEST(BuildGuestCpuidTest, OtherLeavesPassThroughUnchanged) {
  const auto in = Supported();
  const auto out = BuildGuestCpuid(in, {.vcpu_index = 1, .vcpu_count = 2});
  // 13 supported leaves, 4 of them hypervisor leaves, plus ftvm's own.
  EXPECT_EQ(out.size(), in.size() - 4 + 1);
  for (const auto& e : in) {
    if (e.function == 1 || e.function == 0xb || e.function == 0x1f) continue;
    if (e.function >= 0x40000000 && e.function <= 0x400000ff) continue;
    const kvm_cpuid_entry2* o = Find(out, e.function, e.index);
    ASSERT_NE(o, nullptr) << std::hex << e.function;
    EXPECT_TRUE(SameEntry(*o, e)) << std::hex << e.function;
  }
  // The input order of the kept leaves is preserved.
  std::vector<uint32_t> order;
  for (const auto& e : out) order.push_back(e.function);
  EXPECT_THAT(order,
              ::testing::ElementsAre(0u, 1u, 7u, 0xbu, 0xbu, 0x1fu, 0x40000100u,
                                     0x80000000u, 0x80000001u, 0x40000000u));
}

TEST(BuildGuestCpuidTest, EmptySupportedStillHasSignature) {
  const auto out = BuildGuestCpuid({}, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].function, 0x40000000u);
}

}  // namespace
}  // namespace ft::vmm
