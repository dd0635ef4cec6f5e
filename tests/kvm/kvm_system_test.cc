// KvmSystem's checks and error messages.
#include "vmm/kvm/kvm_system.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kvm/kvm_test_env.h"
#include "vmm/kvm/cpuid.h"
#include "vmm/kvm/kvm_stats.h"
#include "vmm/kvm/vcpu.h"
#include "vmm/kvm/vm.h"

namespace ft::vmm {
namespace {

using ::testing::HasSubstr;

TEST(KvmSystemTest, MissingDeviceSaysWhatToDo) {
  auto kvm = KvmSystem::Open({.device = "/nonexistent/kvm"});
  ASSERT_FALSE(kvm.ok());
  EXPECT_EQ(kvm.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(kvm.status().message()),
              HasSubstr("this host has no KVM"));
}

TEST(KvmSystemTest, NonKvmDeviceIsRefused) {
  auto kvm = KvmSystem::Open({.device = "/dev/null"});
  ASSERT_FALSE(kvm.ok());
  EXPECT_EQ(kvm.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(kvm.status().message()), HasSubstr("API version"));
}

TEST(KvmSystemTest, OpensAndReportsCpuid) {
  FT_REQUIRE_KVM();
  auto kvm = KvmSystem::Open({});
  ASSERT_TRUE(kvm.ok()) << kvm.status();
  EXPECT_GE(kvm->vcpu_mmap_size(), sizeof(kvm_run));
  EXPECT_GT(kvm->supported_cpuid().size(), 4u);
  bool has_leaf0 = false;
  for (const auto& e : kvm->supported_cpuid()) has_leaf0 |= e.function == 0;
  EXPECT_TRUE(has_leaf0);
}

TEST(KvmSystemTest, GuestCpuidIsAccepted) {
  FT_REQUIRE_KVM();
  auto kvm = KvmSystem::Open({});
  ASSERT_TRUE(kvm.ok()) << kvm.status();
  auto vm = Vm::Create(*kvm);
  ASSERT_TRUE(vm.ok()) << vm.status();
  auto vcpu = Vcpu::Create(**vm, 0);
  ASSERT_TRUE(vcpu.ok()) << vcpu.status();
  EXPECT_TRUE(
      (*vcpu)->SetCpuid(BuildGuestCpuid(kvm->supported_cpuid(), {})).ok());
}

TEST(KvmStatsTest, VcpuStatisticsAreReadable) {
  FT_REQUIRE_KVM();
  auto kvm = KvmSystem::Open({});
  ASSERT_TRUE(kvm.ok()) << kvm.status();
  auto vm = Vm::Create(*kvm);
  ASSERT_TRUE(vm.ok()) << vm.status();
  auto vcpu = Vcpu::Create(**vm, 0);
  ASSERT_TRUE(vcpu.ok()) << vcpu.status();
  auto stats = KvmStats::Open((*vcpu)->fd());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_THAT(stats->Names(), ::testing::Contains("exits"));
  auto exits = stats->Read("exits");
  ASSERT_TRUE(exits.ok()) << exits.status();
  EXPECT_EQ(*exits, 0u) << "a vCPU that never ran has no exits";
  EXPECT_EQ(stats->Read("no_such_stat").status().code(),
            absl::StatusCode::kNotFound);
  auto all = stats->ReadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), stats->Names().size());
}

}  // namespace
}  // namespace ft::vmm
