// The ftvm binary as a user runs it: options, help, exit codes, and the
// guest's serial output on standard output.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "ftguest/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kvm/kvm_test_env.h"
#include "tests/support/subprocess.h"

namespace ft {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

testing::SubprocessResult Ftvm(std::vector<std::string> args) {
  args.insert(args.begin(), testing::PathFromEnv("FTVM_BIN"));
  auto r = testing::RunSubprocess({.argv = args, .timeout = absl::Seconds(60)});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : testing::SubprocessResult{};
}

TEST(FtvmCliTest, RunHelpExplainsEveryOption) {
  auto r = Ftvm({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* opt : {"--kernel FILE", "--mem SIZE", "--cmdline STR",
                          "--disk PATH", "--net tap=IFNAME", "--log-level",
                          "Exit status", "124", "125", "SIGUSR1"}) {
    EXPECT_THAT(r.out, HasSubstr(opt));
  }
}

TEST(FtvmCliTest, PrimaryAndSecondaryHelpExplainEveryOption) {
  auto primary = Ftvm({"primary", "--help"});
  EXPECT_EQ(primary.exit_code, 0);
  for (const char* opt :
       {"--ft-local ADDR", "--ft-peer ADDR:PORT", "--ft-secret-file FILE",
        "--ft-interface IFNAME", "--ft-plaintext", "--peer-timeout DURATION",
        "--metrics-file FILE", "--kernel FILE", "--kvm PATH",
        "--log-level LEVEL", "mode 600", "Output", "Exit status"}) {
    EXPECT_THAT(primary.out, HasSubstr(opt));
  }
  auto secondary = Ftvm({"secondary", "--help"});
  EXPECT_EQ(secondary.exit_code, 0);
  for (const char* opt :
       {"--listen ADDR:PORT", "--ft-secret-file FILE", "--ft-interface IFNAME",
        "--ft-plaintext", "--accept-timeout DURATION", "--metrics-file FILE",
        "--kernel FILE", "--console", "--replay-nice N", "--max-resyncs N",
        "--kvm PATH", "--log-level LEVEL", "mode 600", "Exit status"}) {
    EXPECT_THAT(secondary.out, HasSubstr(opt));
  }
}

TEST(FtvmCliTest, FtUsageErrorsNameTheOption) {
  auto no_secret = Ftvm({"secondary", "--listen", "198.19.0.12:7400"});
  EXPECT_EQ(no_secret.exit_code, 2);
  EXPECT_THAT(no_secret.err,
              HasSubstr("ftvm secondary: --ft-secret-file FILE is required"));
  auto missing = Ftvm({"primary", "--kernel", "x", "--ft-local", "198.19.0.11",
                       "--ft-peer", "198.19.0.12:7400", "--ft-secret-file",
                       "/nonexistent/secret"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err,
              HasSubstr("ftvm primary: --ft-secret-file: secret file "
                        "/nonexistent/secret"));
  auto level = Ftvm({"secondary", "--log-level", "loud"});
  EXPECT_EQ(level.exit_code, 2);
  EXPECT_THAT(level.err, HasSubstr("ftvm secondary: --log-level:"));
  const std::string secret = ::testing::TempDir() + "/ftvm_cli_test_secret";
  std::ofstream(secret) << "0123456789abcdef0123456789abcdef\n";
  ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);
  for (const char* bad : {"20", "-1", "low"}) {
    auto nice = Ftvm({"secondary", "--listen", "198.19.0.12:7400",
                      "--ft-secret-file", secret, "--replay-nice", bad});
    EXPECT_EQ(nice.exit_code, 2) << bad;
    EXPECT_THAT(nice.err,
                HasSubstr(std::string("ftvm secondary: --replay-nice: '") +
                          bad + "' is not a nice value from 0 to 19"));
  }
  for (const char* bad : {"1001", "-1", "1K"}) {
    auto resyncs = Ftvm({"secondary", "--listen", "198.19.0.12:7400",
                         "--ft-secret-file", secret, "--max-resyncs", bad});
    EXPECT_EQ(resyncs.exit_code, 2) << bad;
    EXPECT_THAT(resyncs.err,
                HasSubstr(std::string("ftvm secondary: --max-resyncs: '") +
                          bad + "' is not a count from 0 to 1000"));
  }
  std::remove(secret.c_str());
}

TEST(FtvmCliTest, NoCommandIsAUsageError) {
  auto r = Ftvm({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("Usage: ftvm COMMAND"));
}

TEST(FtvmCliTest, UnknownCommandAndOptionsAreUsageErrors) {
  EXPECT_EQ(Ftvm({"frobnicate"}).exit_code, 2);
  auto r = Ftvm({"run", "--kernal", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown option --kernal"));
}

TEST(FtvmCliTest, MissingKernelIsAUsageError) {
  auto r = Ftvm({"run"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--kernel FILE is required"));
}

TEST(FtvmCliTest, BadMemorySizeIsAUsageError) {
  auto r = Ftvm({"run", "--kernel", "x", "--mem", "lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("'lots' is not a size"));
}

TEST(FtvmCliTest, BadDeviceSpecsAreUsageErrors) {
  auto net =
      Ftvm({"run", "--kernel", "x", "--net", "tap=t0,mac=01:00:5e:0:0:1"});
  EXPECT_EQ(net.exit_code, 2);
  EXPECT_THAT(net.err, HasSubstr("--net:"));
  auto no_tap = Ftvm({"run", "--kernel", "x", "--net", "mac=52:54:00:1:2:3"});
  EXPECT_EQ(no_tap.exit_code, 2);
  auto disk = Ftvm({"run", "--kernel", "x", "--disk", "img,sometimes"});
  EXPECT_EQ(disk.exit_code, 2);
  EXPECT_THAT(disk.err, HasSubstr("--disk: unknown option 'sometimes'"));
  // The option is named once.
  EXPECT_THAT(disk.err, Not(HasSubstr("--disk: --disk")));
  EXPECT_THAT(net.err, Not(HasSubstr("--net: --net")));
}

TEST(FtvmCliTest, TooManyVirtioDevicesExit125) {
  FT_REQUIRE_KVM();
  const std::string elf = testing::PathFromEnv("FTGUEST_ELF");
  const std::string image = ::testing::TempDir() + "/ftvm_cli_disk.img";
  { std::ofstream(image, std::ios::binary) << std::string(4096, '\0'); }
  std::vector<std::string> args = {"run", "--kernel", elf, "--mem", "64M"};
  for (int i = 0; i < 5; ++i) {
    args.insert(args.end(), {"--disk", image + ",readonly"});
  }
  auto r = Ftvm(args);
  std::remove(image.c_str());
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, HasSubstr("at most 4 virtio devices"));
}

TEST(FtvmCliTest, UnreadableKernelExits125) {
  FT_REQUIRE_KVM();
  auto r = Ftvm({"run", "--kernel", "/nonexistent/k.elf"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/k.elf"));
}

TEST(FtvmCliTest, RunsTheGuestAndReturnsItsExitCode) {
  FT_REQUIRE_KVM();
  const std::string elf = testing::PathFromEnv("FTGUEST_ELF");
  auto ok = Ftvm(
      {"run", "--kernel", elf, "--mem", "64M", "--cmdline", "workload=hello"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr(absl::StrFormat(
                          "ftguest: workload=hello result=%016x status=ok\n",
                          ftg_ref_hello())));
  EXPECT_EQ(ok.err.find("ftguest:"), std::string::npos)
      << "guest output belongs on stdout only";

  auto bad =
      Ftvm({"run", "--kernel", elf, "--mem=64M", "--cmdline=workload=nosuch"});
  EXPECT_EQ(bad.exit_code, FTG_EXIT_BAD_CMDLINE);
}

TEST(FtvmCliTest, SigtermStopsTheGuestWithCode130) {
  FT_REQUIRE_KVM();
  const std::string elf = testing::PathFromEnv("FTGUEST_ELF");
  // The guest would run for a minute; a shell sends SIGTERM after 1 s.
  const std::string ftvm = testing::PathFromEnv("FTVM_BIN");
  auto r = testing::RunSubprocess(
      {.argv =
           {"/bin/sh", "-c",
            ftvm + " run --kernel " + elf +
                " --mem 64M --cmdline 'workload=memdirty mib=2 rate=10 "
                "seconds=60' & pid=$!; sleep 1; kill -TERM $pid; wait $pid"},
       .timeout = absl::Seconds(30)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 130) << r->err;
  EXPECT_LT(r->wall, absl::Seconds(20));
}

}  // namespace
}  // namespace ft
