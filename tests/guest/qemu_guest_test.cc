// Boots ftguest.elf under QEMU microvm (the reference peer for ftvm) and
// checks every workload's final line against ftguest/reference.h and the
// exit status against the exit-code contract.
//
// Environment (set by tests/guest/meson.build):
//   FTGUEST_ELF   path of the guest ELF (required)
//   FTGUEST_QEMU  path of qemu-system-x86_64; empty means "not found": skip
#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "ftguest/reference.h"
#include "tests/support/qemu.h"
#include "tests/support/subprocess.h"

namespace {

constexpr const char* kFinalPrefix = "ftguest: workload=";

struct GuestRun {
  bool timed_out = false;
  bool exited = false;  // exited normally (not killed)
  int exit_code = -1;
  std::string serial;  // QEMU's stdout: the guest's COM1
  std::string qemu_stderr;
  std::vector<std::string> lines;

  std::vector<std::string> FinalLines() const {
    std::vector<std::string> out;
    for (const auto& l : lines)
      if (l.rfind(kFinalPrefix, 0) == 0) out.push_back(l);
    return out;
  }
  bool HasLineStartingWith(const std::string& prefix) const {
    for (const auto& l : lines)
      if (l.rfind(prefix, 0) == 0) return true;
    return false;
  }
  std::string Describe() const {
    return "\n--- serial ---\n" + serial + "--- qemu stderr ---\n" +
           qemu_stderr;
  }
};

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

std::string OkLine(const std::string& workload, uint64_t result) {
  return std::string(kFinalPrefix) + workload + " result=" + Hex16(result) +
         " status=ok";
}

std::string FailLine(const std::string& workload, uint64_t result,
                     const std::string& reason) {
  return std::string(kFinalPrefix) + workload + " result=" + Hex16(result) +
         " status=fail reason=" + reason;
}

// QEMU's isa-debug-exit turns guest exit code c into status (c << 1) | 1.
class QemuGuestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    elf_ = Getenv("FTGUEST_ELF");
    qemu_ = Getenv("FTGUEST_QEMU");
    ASSERT_FALSE(elf_.empty())
        << "FTGUEST_ELF is not set (run through meson test)";
    ASSERT_EQ(access(elf_.c_str(), R_OK), 0)
        << elf_ << ": " << std::strerror(errno);
    if (qemu_.empty())
      GTEST_SKIP() << "qemu-system-x86_64 not found (or -Dqemu_tests=disabled)";
    if (access("/dev/kvm", R_OK | W_OK) != 0)
      GTEST_SKIP() << "/dev/kvm not usable: " << std::strerror(errno);
  }

  // Boots the guest with cmdline; kills QEMU after timeout so a hung guest
  // fails the test instead of hanging it.
  GuestRun Boot(const std::string& cmdline, const std::string& mem = "128M",
                std::chrono::seconds timeout = std::chrono::seconds(20)) {
    GuestRun run;
    auto r = ft::testing::RunSubprocess(
        {.argv = ft::testing::QemuMicrovmArgv({.qemu = qemu_,
                                               .kernel = elf_,
                                               .memory = mem,
                                               .cmdline = cmdline}),
         .timeout = absl::Seconds(timeout.count())});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return run;
    run.timed_out = r->timed_out;
    run.exited = !r->signaled && !r->timed_out;
    run.exit_code = r->exit_code;
    run.serial = r->out;
    run.qemu_stderr = r->err;
    std::istringstream in(run.serial);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      run.lines.push_back(line);
    }
    return run;
  }

  // The common checks: booted line, exactly one final line equal to want,
  // and the exit status for guest_code.
  void Expect(const GuestRun& run, const std::string& cmdline,
              const std::string& want, int guest_code) {
    ASSERT_FALSE(run.timed_out)
        << "QEMU killed after the timeout" << run.Describe();
    EXPECT_TRUE(run.HasLineStartingWith(
        "ftguest: booted mem=128MiB cmdline=\"" + cmdline + "\""))
        << run.Describe();
    auto finals = run.FinalLines();
    ASSERT_EQ(finals.size(), 1u)
        << "want exactly one final line" << run.Describe();
    EXPECT_EQ(finals[0], want) << run.Describe();
    EXPECT_EQ(run.lines.back(), want)
        << "the final line must be the last" << run.Describe();
    ASSERT_TRUE(run.exited) << "QEMU was killed" << run.Describe();
    EXPECT_EQ(run.exit_code, ft::testing::QemuExitStatus(guest_code))
        << run.Describe();
  }

  std::string elf_;
  std::string qemu_;
};

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
        Case{"fault", "workload=fault vec=3"}}) {
    SCOPED_TRACE(c.cmdline);
    GuestRun run = Boot(c.cmdline);
    Expect(run, c.cmdline, FailLine(c.workload, 0, "bad-param"),
           FTG_EXIT_BAD_CMDLINE);
  }
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

}  // namespace
