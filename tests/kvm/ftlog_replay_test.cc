// Record and replay as an operator runs them: `ftvm run --record LOG`, then
// `ftlog replay LOG`. Every workload replays with zero divergences and the
// same guest output; a guest that reads the TSC is caught at a named
// position; damaged logs and the wrong kernel are refused with a clear
// message, never a crash.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/kvm/kvm_test_env.h"
#include "tests/support/subprocess.h"

namespace ft {
namespace {

using ::testing::HasSubstr;

class FtlogReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FT_REQUIRE_KVM();
    dir_ = std::filesystem::temp_directory_path() /
           ("ftlog-replay-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  testing::SubprocessResult Run(std::vector<std::string> argv) {
    auto r =
        testing::RunSubprocess({.argv = argv, .timeout = absl::Minutes(3)});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : testing::SubprocessResult{};
  }
  // ftvm run --record LOG with `cmdline`; returns the result.
  testing::SubprocessResult Record(const std::string& log,
                                   const std::string& cmdline,
                                   std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {testing::PathFromEnv("FTVM_BIN"),
                                     "run",
                                     "--kernel",
                                     testing::PathFromEnv("FTGUEST_ELF"),
                                     "--mem",
                                     "64M",
                                     "--record",
                                     log,
                                     "--cmdline",
                                     cmdline};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Run(argv);
  }
  testing::SubprocessResult Replay(const std::string& log,
                                   std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {testing::PathFromEnv("FTLOG_BIN"),
                                     "replay", "--console"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(log);
    return Run(argv);
  }
  // The guest's lines ("ftguest: ...") of an output.
  static std::string GuestLines(const std::string& out) {
    std::string lines;
    size_t at = 0;
    while ((at = out.find("ftguest:", at)) != std::string::npos) {
      const size_t end = out.find('\n', at);
      lines += out.substr(at, end - at) + "\n";
      at = end;
    }
    return lines;
  }
  void RecordAndReplay(const std::string& cmdline,
                       std::vector<std::string> extra = {}) {
    const std::string log = dir_ + "/run.ftlog";
    std::filesystem::remove(log);
    auto rec = Record(log, cmdline, extra);
    ASSERT_EQ(rec.exit_code, 0) << rec.out << rec.err;
    auto rep = Replay(log);
    EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
    EXPECT_THAT(rep.out, HasSubstr("divergences: 0"));
    EXPECT_THAT(rep.out, HasSubstr("as recorded"));
    EXPECT_EQ(GuestLines(rep.out), GuestLines(rec.out));
    EXPECT_NE(GuestLines(rec.out).find("status=ok"), std::string::npos);
  }

  std::string dir_;
};

TEST_F(FtlogReplayTest, Compute) {
  RecordAndReplay("workload=compute mib=4 rounds=2");
}

TEST_F(FtlogReplayTest, Memdirty) {
  RecordAndReplay("workload=memdirty mib=4 rate=5000 seconds=1");
}

TEST_F(FtlogReplayTest, DiskWithMicroCheckpoints) {
  const std::string image = dir_ + "/disk.img";
  std::ofstream(image).close();
  std::filesystem::resize_file(image, 8ull << 20);
  RecordAndReplay("workload=disk mib=4 rate=400 seconds=1 vblk_spin=2000000",
                  {"--disk", image, "--latency-bound", "50us"});
}

TEST_F(FtlogReplayTest, ATscReadingGuestDivergesAtANamedPosition) {
  const std::string log = dir_ + "/tsc.ftlog";
  ASSERT_EQ(Record(log, "workload=tsccanary").exit_code, 0);
  // The TSC differs on every run: the replay takes other exits unless the
  // two reads agree in all 64 mixed bits.
  auto rep = Replay(log);
  EXPECT_EQ(rep.exit_code, 3) << rep.out << rep.err;
  EXPECT_THAT(rep.err, HasSubstr("divergence at #"));
  EXPECT_THAT(rep.out, HasSubstr("divergences: 1"));
}

TEST_F(FtlogReplayTest, DamagedLogsAreRefusedClearly) {
  const std::string log = dir_ + "/good.ftlog";
  ASSERT_EQ(Record(log, "workload=compute mib=2 rounds=1").exit_code, 0);
  const auto size = std::filesystem::file_size(log);
  std::string bytes(size, '\0');
  std::ifstream(log, std::ios::binary).read(bytes.data(), size);

  // Cut inside the last frame: the replay runs to where the log ends, then
  // says it was cut short.
  const std::string cut = dir_ + "/cut.ftlog";
  std::ofstream(cut, std::ios::binary).write(bytes.data(), size - 10);
  auto r = Replay(cut);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("truncated"));

  // A flipped byte in the middle: a checksum mismatch.
  const std::string bad = dir_ + "/bad.ftlog";
  std::string flipped = bytes;
  flipped[size / 2] ^= 0x40;
  std::ofstream(bad, std::ios::binary).write(flipped.data(), size);
  r = Replay(bad);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("checksum"));

  // Not a log at all, and a header cut short.
  const std::string junk = dir_ + "/junk.ftlog";
  std::ofstream(junk) << "this is not an execution log\n";
  r = Replay(junk);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::string stub = dir_ + "/stub.ftlog";
  std::ofstream(stub, std::ios::binary).write(bytes.data(), 20);
  r = Replay(stub);
  EXPECT_EQ(r.exit_code, 1) << r.err;

  // Another kernel than the recorded one.
  const std::string other = dir_ + "/other.elf";
  std::filesystem::copy_file(testing::PathFromEnv("FTGUEST_ELF"), other);
  std::ofstream(other, std::ios::app) << "x";
  r = Replay(log, {"--kernel", other});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_THAT(r.err, HasSubstr("not the one recorded"));
}

// Ctrl-C on a recording: the log ends with a stop, and its replay runs to
// the last position and ends there without a divergence.
TEST_F(FtlogReplayTest, AStoppedRecordingReplaysToWhereItStopped) {
  const std::string log = dir_ + "/stopped.ftlog";
  const std::string ftvm = testing::PathFromEnv("FTVM_BIN");
  auto rec = testing::RunSubprocess(
      {.argv = {"/bin/sh", "-c",
                ftvm + " run --kernel " + testing::PathFromEnv("FTGUEST_ELF") +
                    " --mem 64M --record " + log +
                    " --cmdline 'workload=memdirty mib=2 rate=2000 "
                    "seconds=60' & pid=$!; sleep 1; kill -TERM $pid; wait "
                    "$pid"},
       .timeout = absl::Seconds(60)});
  ASSERT_TRUE(rec.ok()) << rec.status();
  ASSERT_EQ(rec->exit_code, 130) << rec->err;
  auto rep = Replay(log);
  EXPECT_EQ(rep.exit_code, 0) << rep.out << rep.err;
  EXPECT_THAT(rep.out, HasSubstr("divergences: 0"));
}

TEST_F(FtlogReplayTest, RecordRefusesAnExistingLogAndBadOptions) {
  const std::string log = dir_ + "/exists.ftlog";
  std::ofstream(log) << "keep me";
  auto r = Record(log, "workload=hello");
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_THAT(r.err, HasSubstr("--record"));
  r = Record(dir_ + "/new.ftlog", "workload=hello",
             {"--latency-bound", "forever"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--latency-bound"));
}

}  // namespace
}  // namespace ft
