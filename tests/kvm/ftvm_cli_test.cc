// The ftvm binary as a user runs it: options, help, exit codes, and the
// guest's serial output on standard output.
#include <string>

#include "absl/strings/str_format.h"
#include "ftguest/reference.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kvm/kvm_test_env.h"
#include "tests/support/subprocess.h"

namespace ft {
namespace {

using ::testing::HasSubstr;

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
                          "--log-level", "Exit status", "124", "125"}) {
    EXPECT_THAT(r.out, HasSubstr(opt));
  }
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
