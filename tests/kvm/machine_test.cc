// Boots the test guest in-process through vmm::Machine and checks every
// workload's result against the host-side reference (guest/include).
#include "vmm/machine.h"

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
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

// Runs the guest as it is (events delivered at once), and at one entry
// tries to restore a device snapshot whose serial port state is garbage
// while its PIC, PIT and RTC states are valid but older: what a damaged
// full checkpoint or migration stream would bring.
class BadRestoreProbe : public ExecutionHooks {
 public:
  absl::Status OnExit(const ExitPoint&) override { return absl::OkStatus(); }
  int64_t OnClockRead(HostClock, int64_t live) override { return live; }
  absl::Status BeforeEntry(ExecutionContext& ctx, bool) override {
    ctx.DeliverQueued([](const AsyncEvent&) {});
    ++entries_;
    if (entries_ == kEarly) {
      absl::StatusOr<DevicesSnapshot> s = ctx.SaveDevices();
      if (!s.ok()) return s.status();
      early_ = std::move(*s);
    } else if (entries_ == kProbe) {
      absl::StatusOr<DevicesSnapshot> s = ctx.SaveDevices();
      if (!s.ok()) return s.status();
      before_ = std::move(*s);
      DevicesSnapshot bad = early_;
      bad.devices.at(3).state = {0xde, 0xad, 0xbe, 0xef};
      refused_ = ctx.RestoreDevices(bad);
      s = ctx.SaveDevices();
      if (!s.ok()) return s.status();
      after_ = std::move(*s);
    }
    return absl::OkStatus();
  }
  bool MayWaitWhenHalted() override { return true; }
  void OnFinish(ExecutionContext&, FinishReason, uint32_t) override {}

  static constexpr int kEarly = 5;
  static constexpr int kProbe = 400;
  int entries_ = 0;
  DevicesSnapshot early_, before_, after_;
  absl::Status refused_ = absl::UnknownError("not probed");
};

// A refused device snapshot leaves every device as it was: the ones before
// the bad one get their states back, and the guest runs on to its result.
TEST_F(MachineTest, ARefusedDeviceSnapshotChangesNoDevice) {
  BadRestoreProbe probe;
  MachineOptions opts;
  opts.kernel_path = testing::PathFromEnv("FTGUEST_ELF");
  opts.memory_bytes = 64ull << 20;
  opts.cmdline = "workload=timer";
  opts.console = console_.Sink();
  opts.hooks = &probe;
  auto m = Machine::Create(*kvm_, opts);
  ASSERT_TRUE(m.ok()) << m.status();
  // A guest left with half-restored devices may never finish: the run is
  // bounded, and then fails below as stopped.
  absl::Notification ended;
  std::thread watchdog([&] {
    if (!ended.WaitForNotificationWithTimeout(absl::Seconds(60))) (*m)->Stop();
  });
  auto r = (*m)->Run();
  ended.Notify();
  watchdog.join();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_GE(probe.entries_, BadRestoreProbe::kProbe) << console_.Text();
  EXPECT_FALSE(probe.refused_.ok());
  EXPECT_THAT(probe.refused_.message(), HasSubstr("serial"));
  ASSERT_EQ(probe.before_.devices.size(), probe.after_.devices.size());
  // The probe means something only if the older states differ from the
  // current ones in a device restored before the serial port.
  bool older_differ = false;
  for (size_t i = 0; i < 3; ++i) {
    older_differ |=
        probe.early_.devices[i].state != probe.before_.devices[i].state;
  }
  EXPECT_TRUE(older_differ);
  for (size_t i = 0; i < probe.before_.devices.size(); ++i) {
    EXPECT_EQ(probe.after_.devices[i].state, probe.before_.devices[i].state)
        << probe.before_.devices[i].name;
  }
  EXPECT_EQ(r->reason, MachineResult::Reason::kPowerOff) << r->detail;
  EXPECT_EQ(r->exit_code, FTG_EXIT_OK) << console_.Text();
}

}  // namespace
}  // namespace ft::vmm
