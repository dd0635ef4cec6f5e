// vCPU snapshots and the dirty-page log on a running test guest: a snapshot
// taken while paused restores into the same vCPU and the guest finishes
// with the right result; a snapshot survives a round trip unchanged; the
// dirty log reports the guest's writes and not the VMM's own.
#include "vmm/kvm/vcpu_state.h"

#include <cstring>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "ftguest/reference.h"
#include "gtest/gtest.h"
#include "tests/kvm/kvm_test_env.h"
#include "vmm/machine.h"

namespace ft::vmm {
namespace {

class VcpuStateTest : public testing::KvmTest {
 protected:
  std::unique_ptr<Machine> Make(const std::string& cmdline) {
    MachineOptions opts;
    opts.kernel_path = testing::PathFromEnv("FTGUEST_ELF");
    opts.memory_bytes = 128ull << 20;
    opts.cmdline = cmdline;
    opts.log_dirty_pages = true;
    opts.console = console_.Sink();
    auto m = Machine::Create(*kvm_, opts);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? std::move(*m) : nullptr;
  }
  testing::Console console_;
};

bool SameBytes(const VcpuSnapshot& a, const VcpuSnapshot& b) {
  auto eq = [](const auto& x, const auto& y) {
    return std::memcmp(&x, &y, sizeof(x)) == 0;
  };
  if (a.msrs.size() != b.msrs.size()) return false;
  for (size_t i = 0; i < a.msrs.size(); ++i) {
    if (a.msrs[i].index != b.msrs[i].index ||
        a.msrs[i].data != b.msrs[i].data) {
      return false;
    }
  }
  return eq(a.regs, b.regs) && eq(a.sregs, b.sregs) && eq(a.fpu, b.fpu) &&
         eq(a.xsave, b.xsave) && eq(a.xcrs, b.xcrs) &&
         eq(a.debugregs, b.debugregs) && eq(a.mp_state, b.mp_state);
}

TEST_F(VcpuStateTest, SnapshotWhilePausedRestoresAndTheGuestFinishes) {
  const char* cmdline = "workload=memdirty mib=4 rate=2000 seconds=2";
  auto m = Make(cmdline);
  ASSERT_NE(m, nullptr);
  // Not running yet: the PVH entry state.
  auto boot = m->SaveVcpu(0);
  ASSERT_TRUE(boot.ok()) << boot.status();
  EXPECT_NE(boot->regs.rip, 0u);

  absl::StatusOr<MachineResult> result;
  std::thread runner([&] { result = m->Run(); });
  ASSERT_TRUE(console_.WaitFor("workload=memdirty", absl::Seconds(20)));
  absl::SleepFor(absl::Milliseconds(300));
  m->Pause();
  auto a = m->SaveVcpu(0);
  ASSERT_TRUE(a.ok()) << a.status();
  // The guest has run since boot: another RIP, another digest.
  EXPECT_NE(RegistersDigest(*a), RegistersDigest(*boot));
  // Clobber, then restore: every field comes back as it was.
  VcpuSnapshot clobbered = *a;
  clobbered.regs.rax ^= 0x5a5a5a5a;
  clobbered.regs.rbx ^= 0x1234;
  ASSERT_TRUE(m->RestoreVcpu(0, clobbered).ok());
  auto c = m->SaveVcpu(0);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->regs.rax, clobbered.regs.rax);
  EXPECT_NE(RegistersDigest(*c), RegistersDigest(*a));
  ASSERT_TRUE(m->RestoreVcpu(0, *a).ok());
  auto b = m->SaveVcpu(0);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(SameBytes(*a, *b));
  EXPECT_EQ(RegistersDigest(*a), RegistersDigest(*b));
  m->Resume();
  runner.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->reason, MachineResult::Reason::kPowerOff) << result->detail;
  EXPECT_EQ(result->exit_code, 0u) << console_.Text();
  EXPECT_NE(console_.Text().find(absl::StrFormat(
                "ftguest: workload=memdirty result=%016x status=ok",
                ftg_ref_memdirty(4, 2000, 2))),
            std::string::npos)
      << console_.Text();
}

TEST_F(VcpuStateTest, SaveRefusesWhileRunning) {
  auto m = Make("workload=memdirty mib=1 rate=100 seconds=1");
  ASSERT_NE(m, nullptr);
  std::thread runner([&] { m->Run().IgnoreError(); });
  ASSERT_TRUE(console_.WaitFor("workload=memdirty", absl::Seconds(20)));
  auto s = m->SaveVcpu(0);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  m->Stop();
  runner.join();
}

TEST_F(VcpuStateTest, DirtyLogSeesGuestWritesNotTheVmms) {
  auto m = Make("workload=memdirty mib=8 rate=20000 seconds=2");
  ASSERT_NE(m, nullptr);
  std::thread runner([&] { m->Run().IgnoreError(); });
  ASSERT_TRUE(console_.WaitFor("workload=memdirty", absl::Seconds(20)));
  absl::SleepFor(absl::Milliseconds(200));
  m->Pause();
  ASSERT_TRUE(m->TakeDirtyPages().ok());  // harvest: start from empty
  auto none = m->TakeDirtyPages();
  ASSERT_TRUE(none.ok()) << none.status();
  // Paused: nothing ran since the harvest.
  EXPECT_TRUE(none->empty()) << none->size() << " pages";
  // The VMM's own write (as device DMA does) is not in the log.
  const uint64_t gfn = 0x1000;  // 16 MiB
  const uint8_t byte = 0xab;
  ASSERT_TRUE(m->memory().Write(Gpa(gfn * 4096), std::span(&byte, 1)).ok());
  auto after_dma = m->TakeDirtyPages();
  ASSERT_TRUE(after_dma.ok());
  EXPECT_TRUE(after_dma->empty());
  // The guest, writing 20000 pages a second over 8 MiB, dirties hundreds
  // of distinct pages in 100 ms.
  m->Resume();
  absl::SleepFor(absl::Milliseconds(100));
  m->Pause();
  auto dirty = m->TakeDirtyPages();
  ASSERT_TRUE(dirty.ok());
  EXPECT_GT(dirty->size(), 100u);
  EXPECT_TRUE(std::is_sorted(dirty->begin(), dirty->end()));
  for (uint64_t g : *dirty) EXPECT_LT(g, (128ull << 20) / 4096);
  m->Stop();
  runner.join();
}

}  // namespace
}  // namespace ft::vmm
