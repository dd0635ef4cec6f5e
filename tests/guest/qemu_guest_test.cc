// Every workload under QEMU microvm (see qemu_guest_fixture.h): results,
// parameters, exceptions, the wall-clock line and timer interrupts.
#include <string>

#include "tests/guest/qemu_guest_fixture.h"

namespace ftguest_test {
namespace {

TEST_F(QemuGuestTest, HelloIsTheDefault) {
  GuestRun run = Boot("");
  Expect(run, "", OkLine("hello", ftg_ref_hello()), FTG_EXIT_OK);
  EXPECT_TRUE(
      run.HasLineStartingWith(std::string("ftguest: ") + FTG_HELLO_GREETING));
}

TEST_F(QemuGuestTest, Hello) {
  GuestRun run = Boot("workload=hello");
  Expect(run, "workload=hello", OkLine("hello", ftg_ref_hello()), FTG_EXIT_OK);
}

TEST_F(QemuGuestTest, Compute) {
  const std::string cmd = "workload=compute mib=2 rounds=2";
  GuestRun run = Boot(cmd);
  Expect(run, cmd, OkLine("compute", ftg_ref_compute(2, 2)), FTG_EXIT_OK);
  EXPECT_TRUE(run.HasLineStartingWith("ftguest: compute round=2/2 hash="))
      << run.Describe();
  EXPECT_TRUE(
      run.HasLineStartingWith("ftguest: compute mib=2 rounds=2 elapsed_us="))
      << run.Describe();
}

TEST_F(QemuGuestTest, Memdirty) {
  // 400 writes over 256 pages: wraps into a second pass.
  const std::string cmd = "workload=memdirty mib=1 rate=400 seconds=1";
  GuestRun run = Boot(cmd);
  Expect(run, cmd, OkLine("memdirty", ftg_ref_memdirty(1, 400, 1)),
         FTG_EXIT_OK);
  EXPECT_TRUE(run.HasLineStartingWith("ftguest: memdirty t=1s pages="))
      << run.Describe();
}

TEST_F(QemuGuestTest, Pio) {
  const std::string cmd = "workload=pio count=300";
  GuestRun run = Boot(cmd);
  Expect(run, cmd, OkLine("pio", ftg_ref_pio(300)), FTG_EXIT_OK);
  EXPECT_TRUE(run.HasLineStartingWith("ftguest: pio count=300 elapsed_us="))
      << run.Describe();
}

TEST_F(QemuGuestTest, UnknownKeysAreIgnoredAndTheLastValueWins) {
  const std::string cmd =
      "console=ttyS0 workload=compute mib=1 "
      "virtio_mmio.device=512@0xfeb00e00:12 "
      "rounds=9 rounds=1 noisy";
  GuestRun run = Boot(cmd);
  Expect(run, cmd, OkLine("compute", ftg_ref_compute(1, 1)), FTG_EXIT_OK);
}

TEST_F(QemuGuestTest, UnknownWorkload) {
  GuestRun run = Boot("workload=nosuch");
  Expect(run, "workload=nosuch", FailLine("nosuch", 0, "unknown-workload"),
         FTG_EXIT_BAD_CMDLINE);
}

TEST_F(QemuGuestTest, BadParameters) {
  struct Case {
    const char* workload;
    const char* cmdline;
  };
  for (Case c :
       {Case{"compute", "workload=compute mib=0"},
        Case{"compute", "workload=compute rounds=x"},
        Case{"compute", "workload=compute mib="},
        Case{"pio", "workload=pio count=-1"},
        Case{"memdirty", "workload=memdirty seconds=99999999999999999999999"},
        Case{"fault", "workload=fault vec=3"},
        Case{"timer", "workload=timer ms=0"},
        Case{"disk", "workload=disk rate=0"}}) {
    SCOPED_TRACE(c.cmdline);
    GuestRun run = Boot(c.cmdline);
    Expect(run, c.cmdline, FailLine(c.workload, 0, "bad-param"),
           FTG_EXIT_BAD_CMDLINE);
  }
}

TEST_F(QemuGuestTest, WallClockComesFromTheRtc) {
  // A fixed base date, so the printed date is known (the seconds run on).
  GuestRun run = Boot("workload=hello",
                      {.extra_args = {"-rtc", "base=2020-02-29T12:34:56"}});
  Expect(run, "workload=hello", OkLine("hello", ftg_ref_hello()), FTG_EXIT_OK);
  EXPECT_TRUE(run.HasLineStartingWith("ftguest: rtc=2020-02-29T12:3"))
      << run.Describe();
}

TEST_F(QemuGuestTest, Timer) {
  // Odd expiries are waited for halted, even ones spinning at CPL3; the
  // guest fails the run if a timer fires early or no interrupt ever
  // arrives at CPL3.
  const std::string cmd = "workload=timer count=10 ms=7";
  GuestRun run = Boot(cmd);
  Expect(run, cmd, OkLine("timer", ftg_ref_timer(10, 7)), FTG_EXIT_OK);
  const std::string prefix = "ftguest: timer count=10 ms=7 ";
  auto elapsed = run.Field(prefix, "elapsed_us");
  ASSERT_TRUE(elapsed.has_value()) << run.Describe();
  EXPECT_GE(*elapsed, 70000u) << run.Describe();
  EXPECT_GE(run.Field(prefix, "irqs").value_or(0), 10u) << run.Describe();
  EXPECT_GE(run.Field(prefix, "spin_wakeups").value_or(0), 5u)
      << run.Describe();
}

TEST_F(QemuGuestTest, TimerLongerThanOneShot) {
  // 120 ms exceeds the PIT's 16-bit one-shot: intermediate interrupts.
  const std::string cmd = "workload=timer count=3 ms=120";
  GuestRun run = Boot(cmd);
  Expect(run, cmd, OkLine("timer", ftg_ref_timer(3, 120)), FTG_EXIT_OK);
  EXPECT_GE(run.Field("ftguest: timer count=3", "elapsed_us").value_or(0),
            360000u)
      << run.Describe();
}

TEST_F(QemuGuestTest, WorkingSetLargerThanRamIsABadParameter) {
  const std::string cmd = "workload=memdirty mib=1024";
  GuestRun run = Boot(cmd);
  Expect(run, cmd, FailLine("memdirty", 0, "bad-param"), FTG_EXIT_BAD_CMDLINE);
}

TEST_F(QemuGuestTest, ExceptionsAreReported) {
  struct Case {
    int vec;
    const char* detail;
  };
  for (Case c : {Case{6, " err=0x0 "}, Case{14, " err=0x4 "},
                 Case{13, " err=0x0 "}, Case{0, " err=0x0 "}}) {
    std::string cmd = "workload=fault vec=" + std::to_string(c.vec);
    SCOPED_TRACE(cmd);
    GuestRun run = Boot(cmd);
    Expect(run, cmd, FailLine("fault", 0, "exception"), FTG_EXIT_EXCEPTION);
    std::string line =
        "ftguest: exception vec=" + std::to_string(c.vec) + c.detail;
    EXPECT_TRUE(run.HasLineStartingWith(line)) << run.Describe();
  }
}

// The redis workload's network scenarios need a TAP (qemu_redis_test.cc);
// without a NIC it stops before touching anything else.
TEST_F(QemuGuestTest, RedisWithoutANic) {
  const std::string cmd = "workload=redis ip=198.18.250.2/24";
  GuestRun run = Boot(cmd);
  Expect(run, cmd, FailLine("redis", 0, "no-nic"), FTG_EXIT_FAIL);
  EXPECT_TRUE(run.HasLineStartingWith("ftguest: virtio-net: no device"))
      << run.Describe();
}

}  // namespace
}  // namespace ftguest_test
