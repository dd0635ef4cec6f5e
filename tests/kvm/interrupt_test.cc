// Interrupts and HLT end to end on KVM: tiny hand-assembled 32-bit PVH
// guests (so these tests depend only on the VMM), then the test guest's
// `timer` workload.
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ftguest/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kvm/kvm_test_env.h"
#include "tests/unit/boot/elf_builder.h"
#include "vmm/machine.h"

namespace ft::vmm {
namespace {

using ::testing::HasSubstr;

// Guest physical layout of the tiny guests (one PT_LOAD segment).
constexpr uint32_t kBase = 0x100000;
constexpr uint32_t kLoop = kBase + 0x100;
constexpr uint32_t kHandler = kBase + 0x180;
constexpr uint32_t kGdt = kBase + 0x800;
constexpr uint32_t kGdtr = kBase + 0x840;
constexpr uint32_t kIdtr = kBase + 0x848;
constexpr uint32_t kCounter = kBase + 0x900;
constexpr uint32_t kIdt = kBase + 0x1000;
constexpr uint32_t kStackTop = kBase + 0x2000;
constexpr uint32_t kImageSize = 0x2000;
constexpr uint8_t kTimerVector = 0x20;

// Appends 32-bit x86 machine code.
class Code {
 public:
  Code& Bytes(std::initializer_list<uint8_t> b) {
    bytes_.insert(bytes_.end(), b);
    return *this;
  }
  Code& Imm32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Code& OutB(uint8_t port, uint8_t value) {  // mov al, value; out port, al
    return Bytes({0xb0, value, 0xe6, port});
  }
  Code& Append(const Code& more) {
    bytes_.insert(bytes_.end(), more.bytes_.begin(), more.bytes_.end());
    return *this;
  }
  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// The vCPU's CPL0 code is emulated here, and KVM's emulator cannot IRET in
// protected mode, so the tiny guests never return from an interrupt: the
// handler drops the frame and jumps back to the wait loop, which re-enables
// interrupts itself.
//
// Layout: flat GDT (CS 0x10 and DS 0x18, as PVH entry sets them), an IDT
// whose vector 0x20 counts interrupts at kCounter, a stack, and the PIC set
// up with IRQ 0 at vector 0x20 in auto-EOI mode, IRQ 0 alone unmasked. Then
// `setup` runs, then the wait loop at kLoop halts until the counter reaches
// `count` and powers off with the counter as exit code.
std::vector<uint8_t> TimerGuestImage(const Code& setup, uint8_t count = 1) {
  Code boot;
  boot.Bytes({0xbc}).Imm32(kStackTop);          // mov esp, kStackTop
  boot.Bytes({0x0f, 0x01, 0x15}).Imm32(kGdtr);  // lgdt [kGdtr]
  boot.Bytes({0x0f, 0x01, 0x1d}).Imm32(kIdtr);  // lidt [kIdtr]
  boot.OutB(0x20, 0x11).OutB(0x21, kTimerVector).OutB(0x21, 0x04);
  boot.OutB(0x21, 0x03);  // ICW4: 8086 mode, auto-EOI
  boot.OutB(0x21, 0xfe).OutB(0xa1, 0xff);
  boot.Append(setup);
  boot.Bytes({0xb8}).Imm32(kLoop).Bytes({0xff, 0xe0});  // jmp kLoop

  Code loop;
  loop.Bytes({0x83, 0x3d}).Imm32(kCounter).Bytes({count});  // cmp [ctr], n
  loop.Bytes({0x73, 0x03});                                 // jae done
  loop.Bytes({0xfb, 0xf4});                                 // sti; hlt
  loop.Bytes({0xf4});                  // (an interrupt never returns)
  loop.Bytes({0xa1}).Imm32(kCounter);  // done: mov eax, [counter]
  loop.Bytes({0xe7, 0xf4, 0xf4});      // out 0xf4, eax; hlt

  Code handler;
  handler.Bytes({0xff, 0x05}).Imm32(kCounter);             // inc dword [ctr]
  handler.Bytes({0x83, 0xc4, 0x0c});                       // add esp, 12
  handler.Bytes({0xb8}).Imm32(kLoop).Bytes({0xff, 0xe0});  // jmp kLoop

  std::vector<uint8_t> image(kImageSize, 0);
  auto place = [&](uint32_t at, const Code& c, uint32_t room) {
    EXPECT_LE(c.size(), room);
    std::copy(c.bytes().begin(), c.bytes().end(), image.begin() + (at - kBase));
  };
  place(kBase, boot, kLoop - kBase);
  place(kLoop, loop, kHandler - kLoop);
  place(kHandler, handler, kGdt - kHandler);

  auto put64 = [&](uint32_t at, uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      image[at - kBase + i] = static_cast<uint8_t>(v >> (8 * i));
    }
  };
  put64(kGdt + 0x10, 0x00cf9a000000ffffull);  // code, 4 GiB
  put64(kGdt + 0x18, 0x00cf92000000ffffull);  // data, 4 GiB
  put64(kGdtr, (uint64_t{kGdt} << 16) | 0x1f);
  put64(kIdtr, (uint64_t{kIdt} << 16) | 0x7ff);
  // 32-bit interrupt gate: offset, selector 0x10, present, DPL 0, type 0xe.
  put64(kIdt + kTimerVector * 8,
        (uint64_t{kHandler >> 16} << 48) | (uint64_t{0x8e00} << 32) |
            (uint64_t{0x10} << 16) | (kHandler & 0xffff));
  return image;
}

class InterruptTest : public testing::KvmTest {
 protected:
  void TearDown() override {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  // A machine booting `image` (loaded at kBase, entered there).
  std::unique_ptr<Machine> MakeImage(const std::vector<uint8_t>& image) {
    const std::vector<uint8_t> elf = elf_test::ElfBuilder(false)
                                         .AddLoad(kBase, image)
                                         .AddPvhNote(kBase)
                                         .Build();
    char name[] = "/tmp/ftvm-irq-guest-XXXXXX";
    const int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    path_ = name;
    EXPECT_EQ(::write(fd, elf.data(), elf.size()),
              static_cast<ssize_t>(elf.size()));
    ::close(fd);
    return Make(path_, "");
  }
  std::unique_ptr<Machine> Make(const std::string& kernel,
                                const std::string& cmdline) {
    MachineOptions opts;
    opts.kernel_path = kernel;
    opts.memory_bytes = 64ull << 20;
    opts.cmdline = cmdline;
    opts.console = [this](std::string_view s) {
      absl::MutexLock lock(&mu_);
      console_.append(s.data(), s.size());
    };
    auto m = Machine::Create(*kvm_, opts);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? std::move(*m) : nullptr;
  }
  static MachineResult RunOk(Machine& m) {
    auto r = m.Run();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r
                  : MachineResult{.reason = MachineResult::Reason::kFailed};
  }
  // Waits (bounded) until the vCPU has halted `n` times.
  static bool WaitForHalts(Machine& m, uint64_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (m.vcpu_stats().halts < n) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return true;
  }

  std::string path_;
  absl::Mutex mu_;
  std::string console_;
};

TEST_F(InterruptTest, OneShotPitWakesAHaltedGuest) {
  Code setup;
  setup.OutB(0x43, 0x30).OutB(0x40, 0x9c).OutB(0x40, 0x2e);  // mode 0, 10 ms
  auto machine = MakeImage(TimerGuestImage(setup, 1));
  ASSERT_NE(machine, nullptr);
  const absl::Time start = absl::Now();
  MachineResult r = RunOk(*machine);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(10));  // never early
  EXPECT_EQ(r.reason, MachineResult::Reason::kPowerOff) << r.detail;
  EXPECT_EQ(r.exit_code, 1u);
  EXPECT_EQ(machine->interrupts_injected(), 1u);
  EXPECT_EQ(machine->vcpu_stats().halts, 1u);
}

TEST_F(InterruptTest, PeriodicPitInterruptsRepeatedly) {
  Code setup;
  setup.OutB(0x43, 0x34).OutB(0x40, 0x9c).OutB(0x40, 0x2e);  // mode 2, 10 ms
  auto machine = MakeImage(TimerGuestImage(setup, 5));
  ASSERT_NE(machine, nullptr);
  MachineResult r = RunOk(*machine);
  EXPECT_EQ(r.reason, MachineResult::Reason::kPowerOff) << r.detail;
  EXPECT_EQ(r.exit_code, 5u);
  EXPECT_GE(machine->interrupts_injected(), 5u);
  EXPECT_GE(machine->vcpu_stats().halts, 5u);
}

TEST_F(InterruptTest, InterruptWaitsForTheWindowThenArrivesWithoutHlt) {
  Code setup;
  setup.OutB(0x43, 0x30).OutB(0x40, 0xa9).OutB(0x40, 0x04);  // mode 0, 1 ms
  // With IF=0, spin on port reads until IRQ 0 is latched in the PIC's IRR:
  // the VMM now holds an interrupt the guest cannot take.
  setup.OutB(0x20, 0x0a);                             // OCW3: read IRR
  setup.Bytes({0xe4, 0x20, 0xa8, 0x01, 0x74, 0xfa});  // in; test 1; jz in
  setup.Bytes({0xfb, 0x90});                          // sti; nop
  auto machine = MakeImage(TimerGuestImage(setup, 1));
  ASSERT_NE(machine, nullptr);
  MachineResult r = RunOk(*machine);
  EXPECT_EQ(r.reason, MachineResult::Reason::kPowerOff) << r.detail;
  EXPECT_EQ(r.exit_code, 1u);
  EXPECT_EQ(machine->interrupts_injected(), 1u);
  // Had the interrupt-window exit not come right after STI, the guest would
  // have reached its wait loop's HLT before taking the interrupt.
  EXPECT_EQ(machine->vcpu_stats().halts, 0u);
}

TEST_F(InterruptTest, HltWithInterruptsDisabledEndsTheMachine) {
  Code c;
  c.Bytes({0xfa, 0xf4});  // cli; hlt
  auto machine = MakeImage(TimerGuestImage(c));
  ASSERT_NE(machine, nullptr);
  MachineResult r = RunOk(*machine);
  EXPECT_EQ(r.reason, MachineResult::Reason::kHalted);
  EXPECT_THAT(r.detail, HasSubstr("IF=0"));
}

TEST_F(InterruptTest, HltWithEveryLineMaskedEndsTheMachine) {
  Code c;
  c.OutB(0x21, 0xff).Bytes({0xfb, 0xf4});  // mask IRQ 0 too; sti; hlt
  auto machine = MakeImage(TimerGuestImage(c));
  ASSERT_NE(machine, nullptr);
  MachineResult r = RunOk(*machine);
  EXPECT_EQ(r.reason, MachineResult::Reason::kHalted);
  EXPECT_THAT(r.detail, HasSubstr("masked"));
}

// sti; hlt; jmp back to the hlt: no timer is armed, so it halts for good.
Code HaltForever() {
  Code c;
  c.Bytes({0xfb, 0xf4, 0xeb, 0xfd});
  return c;
}

TEST_F(InterruptTest, StopEndsAHaltedGuest) {
  auto machine = MakeImage(TimerGuestImage(HaltForever()));
  ASSERT_NE(machine, nullptr);
  absl::Duration stop_took;
  std::thread stopper([&] {
    ASSERT_TRUE(WaitForHalts(*machine, 1));
    const absl::Time t = absl::Now();
    machine->Stop();
    stop_took = absl::Now() - t;
  });
  MachineResult r = RunOk(*machine);
  stopper.join();
  EXPECT_EQ(r.reason, MachineResult::Reason::kStopped) << r.detail;
  EXPECT_LT(stop_took, absl::Seconds(1));
}

TEST_F(InterruptTest, EventsThatRaiseNoInterruptDoNotEndAHalt) {
  Code setup;
  setup.OutB(0x21, 0xfd);  // IRQ 1 (idle) open, IRQ 0 masked
  setup.OutB(0x43, 0x34).OutB(0x40, 0x9c).OutB(0x40, 0x2e);  // mode 2, 10 ms
  setup.Append(HaltForever());
  auto machine = MakeImage(TimerGuestImage(setup));
  ASSERT_NE(machine, nullptr);
  VcpuThread::Stats first{}, later{};
  std::thread controller([&] {
    ASSERT_TRUE(WaitForHalts(*machine, 1));
    first = machine->vcpu_stats();
    // About ten timer expiries reach the PIT, which pulses a masked line.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    later = machine->vcpu_stats();
    machine->Stop();
  });
  MachineResult r = RunOk(*machine);
  controller.join();
  EXPECT_EQ(r.reason, MachineResult::Reason::kStopped);
  EXPECT_EQ(machine->interrupts_injected(), 0u);
  EXPECT_EQ(later.halts, 1u) << "the guest ran on after its HLT";
  EXPECT_EQ(later.exits, first.exits);
}

TEST_F(InterruptTest, PauseAndResumeKeepAHaltedGuestHalted) {
  auto machine = MakeImage(TimerGuestImage(HaltForever()));
  ASSERT_NE(machine, nullptr);
  VcpuThread::Stats paused{}, resumed{};
  std::thread controller([&] {
    ASSERT_TRUE(WaitForHalts(*machine, 1));
    machine->Pause();  // must return although the vCPU is asleep in HLT
    paused = machine->vcpu_stats();
    machine->Resume();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    resumed = machine->vcpu_stats();
    machine->Stop();
  });
  MachineResult r = RunOk(*machine);
  controller.join();
  EXPECT_EQ(r.reason, MachineResult::Reason::kStopped);
  // Resuming must not end the guest's HLT: no interrupt came, so the guest
  // must not have run on (it would have jumped back to HLT: another exit).
  EXPECT_EQ(paused.halts, 1u);
  EXPECT_EQ(resumed.halts, 1u);
  EXPECT_EQ(resumed.exits, paused.exits);
}

// The test guest's own timer service: one-shot PIT interrupts, waited for
// alternately by halting and by spinning at CPL3.
TEST_F(InterruptTest, GuestTimerWorkload) {
  auto machine =
      Make(testing::PathFromEnv("FTGUEST_ELF"), "workload=timer count=10 ms=5");
  ASSERT_NE(machine, nullptr);
  MachineResult r = RunOk(*machine);
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(r.exit_code, FTG_EXIT_OK) << r.detail << "\n" << console_;
  EXPECT_THAT(console_,
              HasSubstr(absl::StrFormat("workload=timer result=%016x status=ok",
                                        ftg_ref_timer(10, 5))));
  EXPECT_GE(machine->interrupts_injected(), 10u);
  EXPECT_GT(machine->vcpu_stats().halts, 0u);
}

}  // namespace
}  // namespace ft::vmm
