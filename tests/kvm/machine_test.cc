// Boots the test guest in-process through vmm::Machine and checks every
// workload's result against the host-side reference (guest/include).
#include "vmm/machine.h"

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "ftguest/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kvm/kvm_test_env.h"

namespace ft::vmm {
namespace {

using ::testing::HasSubstr;

using testing::Console;

class MachineTest : public testing::KvmTest {
 protected:
  std::unique_ptr<Machine> Make(const std::string& cmdline,
                                uint64_t mem = 128ull << 20) {
    MachineOptions opts;
    opts.kernel_path = testing::PathFromEnv("FTGUEST_ELF");
    opts.memory_bytes = mem;
    opts.cmdline = cmdline;
    opts.console = console_.Sink();
    auto m = Machine::Create(*kvm_, opts);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? std::move(*m) : nullptr;
  }

  // Runs to completion and returns the result.
  MachineResult RunToEnd(const std::string& cmdline) {
    auto m = Make(cmdline);
    if (!m) return {.reason = MachineResult::Reason::kFailed};
    auto r = m->Run();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r
                  : MachineResult{.reason = MachineResult::Reason::kFailed};
  }

  static std::string OkLine(const char* workload, uint64_t result) {
    return absl::StrFormat("ftguest: workload=%s result=%016x status=ok\n",
                           workload, result);
  }

  Console console_;
};

TEST_F(MachineTest, HelloPowersOffWithItsResult) {
  MachineResult r = RunToEnd("workload=hello");
  EXPECT_EQ(r.reason, MachineResult::Reason::kPowerOff) << r.detail;
  EXPECT_EQ(r.exit_code, FTG_EXIT_OK);
  EXPECT_THAT(console_.Text(), HasSubstr("ftguest: booted mem=128MiB"));
  EXPECT_THAT(console_.Text(), HasSubstr(OkLine("hello", ftg_ref_hello())));
}

TEST_F(MachineTest, ComputeMatchesReference) {
  MachineResult r = RunToEnd("workload=compute mib=2 rounds=3");
  EXPECT_EQ(r.reason, MachineResult::Reason::kPowerOff) << r.detail;
  EXPECT_EQ(r.exit_code, FTG_EXIT_OK);
  EXPECT_THAT(console_.Text(),
              HasSubstr(OkLine("compute", ftg_ref_compute(2, 3))));
}

TEST_F(MachineTest, MemdirtyMatchesReference) {
  MachineResult r = RunToEnd("workload=memdirty mib=4 rate=3000 seconds=1");
  EXPECT_EQ(r.exit_code, FTG_EXIT_OK) << r.detail;
  EXPECT_THAT(console_.Text(),
              HasSubstr(OkLine("memdirty", ftg_ref_memdirty(4, 3000, 1))));
}

TEST_F(MachineTest, PioMatchesReference) {
  MachineResult r = RunToEnd("workload=pio count=300");
  EXPECT_EQ(r.exit_code, FTG_EXIT_OK) << r.detail;
  EXPECT_THAT(console_.Text(), HasSubstr(OkLine("pio", ftg_ref_pio(300))));
}

TEST_F(MachineTest, ExactlyOneFinalLine) {
  RunToEnd("workload=hello");
  const std::string text = console_.Text();
  size_t first = text.find("result=");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(text.find("result=", first + 1), std::string::npos) << text;
}

TEST_F(MachineTest, UnknownWorkloadFailsWithCode2) {
  MachineResult r = RunToEnd("workload=nosuch");
  EXPECT_EQ(r.reason, MachineResult::Reason::kPowerOff);
  EXPECT_EQ(r.exit_code, FTG_EXIT_BAD_CMDLINE);
  EXPECT_THAT(console_.Text(),
              HasSubstr("status=fail reason=unknown-workload"));
}

TEST_F(MachineTest, BadParameterFailsWithCode2) {
  MachineResult r = RunToEnd("workload=compute mib=0");
  EXPECT_EQ(r.exit_code, FTG_EXIT_BAD_CMDLINE);
  EXPECT_THAT(console_.Text(), HasSubstr("status=fail reason=bad-param"));
}

TEST_F(MachineTest, GuestExceptionIsReportedWithCode3) {
  MachineResult r = RunToEnd("workload=fault vec=6");
  EXPECT_EQ(r.exit_code, FTG_EXIT_EXCEPTION) << r.detail;
  EXPECT_THAT(console_.Text(), HasSubstr("exception vec=6"));
  EXPECT_THAT(console_.Text(), HasSubstr("status=fail reason=exception"));
}

TEST_F(MachineTest, StopEndsARunningGuest) {
  auto m = Make("workload=memdirty mib=4 rate=100 seconds=60");
  ASSERT_NE(m, nullptr);
  std::thread stopper([&] {
    ASSERT_TRUE(console_.WaitFor("memdirty t=1s", absl::Seconds(20)));
    m->Stop();
  });
  auto r = m->Run();
  stopper.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reason, MachineResult::Reason::kStopped);
  EXPECT_THAT(console_.Text(), ::testing::Not(HasSubstr("status=ok")));
}

TEST_F(MachineTest, PausedGuestMakesNoExitsUntilResumed) {
  auto m = Make("workload=memdirty mib=4 rate=1000 seconds=3");
  ASSERT_NE(m, nullptr);
  uint64_t before = 0, after = 0;
  std::thread controller([&] {
    ASSERT_TRUE(console_.WaitFor("memdirty t=1s", absl::Seconds(20)));
    m->Pause();
    before = m->vcpu_stats().exits;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    after = m->vcpu_stats().exits;
    m->Resume();
  });
  auto r = m->Run();
  controller.join();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(before, after) << "the vCPU ran while paused";
  EXPECT_GT(before, 0u);
  EXPECT_EQ(r->exit_code, FTG_EXIT_OK) << r->detail;
  EXPECT_THAT(console_.Text(),
              HasSubstr(OkLine("memdirty", ftg_ref_memdirty(4, 1000, 3))));
}

TEST_F(MachineTest, MemoryAboveTheHoleBoots) {
  // 3.5 GiB: RAM continues at 4 GiB; MAP_NORESERVE keeps this cheap.
  auto m = Make("workload=hello", 3584ull << 20);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->memory().regions().size(), 2u);
  auto r = m->Run();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, FTG_EXIT_OK) << r->detail;
}

TEST_F(MachineTest, DiskWorkloadWritesThroughVirtioBlk) {
  char path[] = "/tmp/ftvm-disk-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 2 << 20), 0);
  MachineOptions opts;
  opts.kernel_path = testing::PathFromEnv("FTGUEST_ELF");
  opts.memory_bytes = 128ull << 20;
  opts.cmdline = "workload=disk mib=1 rate=300 seconds=1 flush=8";
  opts.disks.push_back({.path = path});
  opts.console = console_.Sink();
  auto m = Machine::Create(*kvm_, opts);
  ASSERT_TRUE(m.ok()) << m.status();
  auto r = (*m)->Run();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, FTG_EXIT_OK) << r->detail << console_.Text();
  EXPECT_THAT(console_.Text(),
              HasSubstr(OkLine("disk", ftg_ref_disk(1, 300, 1))));
  // The pattern reached the image file: block 0 is no longer zero.
  char block[512] = {};
  ASSERT_EQ(::pread(fd, block, sizeof(block), 0), 512);
  EXPECT_NE(std::string(block, 512), std::string(512, '\0'));
  ::close(fd);
  ::unlink(path);
}

TEST_F(MachineTest, NoDiskIsReportedByTheGuest) {
  MachineResult r = RunToEnd("workload=disk mib=1 rate=300 seconds=1");
  EXPECT_EQ(r.exit_code, FTG_EXIT_FAIL);
  EXPECT_THAT(console_.Text(), HasSubstr("reason=no-disk"));
}

TEST_F(MachineTest, MissingKernelIsAClearError) {
  MachineOptions opts;
  opts.kernel_path = "/nonexistent/kernel.elf";
  auto m = Machine::Create(*kvm_, opts);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()),
              HasSubstr("/nonexistent/kernel.elf"));
}

TEST_F(MachineTest, MoreThanOneVcpuIsRefused) {
  MachineOptions opts;
  opts.kernel_path = testing::PathFromEnv("FTGUEST_ELF");
  opts.vcpus = 2;
  auto m = Machine::Create(*kvm_, opts);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace ft::vmm
