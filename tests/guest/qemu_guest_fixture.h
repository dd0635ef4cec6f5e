// The QEMU side of the guest tests: boots ftguest.elf under QEMU microvm
// (the reference peer for ftvm) and checks the final line against
// ftguest/reference.h and the exit status against the exit-code contract.
//
// Environment (set by tests/guest/meson.build):
//   FTGUEST_ELF   path of the guest ELF (required)
//   FTGUEST_QEMU  path of qemu-system-x86_64; empty means "not found": skip
#ifndef FTVM_TESTS_GUEST_QEMU_GUEST_FIXTURE_H_
#define FTVM_TESTS_GUEST_QEMU_GUEST_FIXTURE_H_

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "ftguest/reference.h"
#include "tests/support/qemu.h"
#include "tests/support/subprocess.h"

namespace ftguest_test {

inline constexpr const char* kFinalPrefix = "ftguest: workload=";

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
  // The value of `key=` in the first line starting with prefix.
  std::optional<uint64_t> Field(const std::string& prefix,
                                const std::string& key) const {
    for (const auto& l : lines) {
      if (l.rfind(prefix, 0) != 0) continue;
      size_t at = l.find(" " + key + "=");
      if (at == std::string::npos) return std::nullopt;
      return std::strtoull(l.c_str() + at + key.size() + 2, nullptr, 10);
    }
    return std::nullopt;
  }
  std::string Describe() const {
    return "\n--- serial ---\n" + serial + "--- qemu stderr ---\n" +
           qemu_stderr;
  }
};

inline std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

inline std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

inline std::string OkLine(const std::string& workload, uint64_t result) {
  return std::string(kFinalPrefix) + workload + " result=" + Hex16(result) +
         " status=ok";
}

inline std::string FailLine(const std::string& workload, uint64_t result,
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

  struct BootOptions {
    std::string disk;  // raw image attached as virtio-blk, or none
    std::vector<std::string> extra_args;
  };

  // Boots the guest with cmdline; kills QEMU after timeout so a hung guest
  // fails the test instead of hanging it.
  GuestRun Boot(const std::string& cmdline, const BootOptions& opts = {},
                std::chrono::seconds timeout = std::chrono::seconds(20)) {
    GuestRun run;
    auto r = ft::testing::RunSubprocess(
        {.argv = ft::testing::QemuMicrovmArgv({.qemu = qemu_,
                                               .kernel = elf_,
                                               .memory = "128M",
                                               .cmdline = cmdline,
                                               .disk = opts.disk,
                                               .extra_args = opts.extra_args}),
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

  // The common checks: booted line (QEMU appends virtio_mmio.device=
  // tokens to cmdline when a device is attached), the wall-clock line,
  // exactly one final line equal to want, and the exit status for
  // guest_code.
  void Expect(const GuestRun& run, const std::string& cmdline,
              const std::string& want, int guest_code,
              bool devices_appended = false) {
    ASSERT_FALSE(run.timed_out)
        << "QEMU killed after the timeout" << run.Describe();
    EXPECT_TRUE(run.HasLineStartingWith(
        "ftguest: booted mem=128MiB cmdline=\"" + cmdline +
        (devices_appended ? " virtio_mmio.device=" : "\"")))
        << run.Describe();
    static const std::regex kRtc(
        "ftguest: rtc=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}");
    bool rtc = false;
    for (const auto& l : run.lines) rtc = rtc || std::regex_match(l, kRtc);
    EXPECT_TRUE(rtc) << "no wall-clock line" << run.Describe();
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

// A raw image in the test's temp dir, removed at the end of the test.
class TempImage {
 public:
  TempImage(uint64_t bytes, uint8_t fill) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir != nullptr && *dir ? dir : "/tmp") +
            "/ftguest-disk-XXXXXX";
    int fd = mkstemp(path_.data());
    EXPECT_GE(fd, 0) << path_ << ": " << std::strerror(errno);
    if (fd < 0) return;
    std::vector<char> chunk(1 << 20, static_cast<char>(fill));
    for (uint64_t done = 0; done < bytes; done += chunk.size()) {
      size_t n =
          static_cast<size_t>(std::min<uint64_t>(chunk.size(), bytes - done));
      EXPECT_EQ(write(fd, chunk.data(), n), static_cast<ssize_t>(n));
    }
    close(fd);
  }
  ~TempImage() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }
  std::vector<uint8_t> Contents() const {
    std::ifstream in(path_, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string path_;
};

}  // namespace ftguest_test

#endif  // FTVM_TESTS_GUEST_QEMU_GUEST_FIXTURE_H_
