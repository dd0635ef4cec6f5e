// The FT pair in one process: FtPrimary and FtSecondary over an in-process
// log channel, the primary running the test guest's disk workload (every
// disk write is an output). Shows the Output Rule (a write reaches the
// image only after the secondary acknowledged the log before it, while the
// guest keeps running), the secondary's lag in positions (from the
// primary's heartbeats), the primary going on unprotected when the secondary
// disappears, a divergence repaired by a resync (a full checkpoint from the
// primary), and one beyond the resyncs allowed reported back to the
// primary.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <string_view>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "logchannel/inproc_transport.h"
#include "primary/ft_primary.h"
#include "replay/run_config.h"
#include "secondary/ft_secondary.h"
#include "tests/kvm/kvm_test_env.h"
#include "vmm/machine.h"

namespace ft {
namespace {

using ::testing::HasSubstr;

constexpr char kSecret[] = "a test secret of enough bytes";

// The test's handle on the secondary's side of the channel: it can hold
// back that side's writes (acknowledgements and heartbeats), as a slow or
// stuck secondary would, or cut the connection. It outlives the transport.
class Gate {
 public:
  void SetOpen(bool open) {
    absl::MutexLock lock(&mu_);
    open_ = open;
  }
  void Cut() {
    absl::MutexLock lock(&mu_);
    shut_ = true;
    if (inner_ != nullptr) inner_->Shutdown();
  }

 private:
  friend class GatedTransport;
  absl::Mutex mu_;
  bool open_ = true;
  bool shut_ = false;
  logchannel::Transport* inner_ = nullptr;  // while the transport lives
};

class GatedTransport : public logchannel::Transport {
 public:
  GatedTransport(std::unique_ptr<logchannel::Transport> inner,
                 std::shared_ptr<Gate> gate)
      : inner_(std::move(inner)), gate_(std::move(gate)) {
    absl::MutexLock lock(&gate_->mu_);
    gate_->inner_ = inner_.get();
  }
  ~GatedTransport() override {
    absl::MutexLock lock(&gate_->mu_);
    gate_->inner_ = nullptr;
  }
  absl::Status Write(std::span<const uint8_t> bytes) override {
    {
      absl::MutexLock lock(&gate_->mu_);
      gate_->mu_.Await(absl::Condition(
          +[](Gate* g) { return g->open_ || g->shut_; }, gate_.get()));
      if (gate_->shut_) return absl::CancelledError("shut down");
    }
    return inner_->Write(bytes);
  }
  absl::StatusOr<size_t> Read(std::span<uint8_t> buf,
                              absl::Time deadline) override {
    return inner_->Read(buf, deadline);
  }
  void ShutdownWrite() override { inner_->ShutdownWrite(); }
  void Shutdown() override { gate_->Cut(); }
  std::string Describe() const override { return inner_->Describe(); }

 private:
  std::unique_ptr<logchannel::Transport> inner_;
  std::shared_ptr<Gate> gate_;
};

class FtPairTest : public testing::KvmTest {
 protected:
  void SetUp() override {
    KvmTest::SetUp();
    if (IsSkipped()) return;
    char dir[] = "/tmp/ftvm-pair-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    image_ = dir_ + "/disk.img";
    std::ofstream(image_).close();
    ASSERT_EQ(::truncate(image_.c_str(), 16 << 20), 0);
  }
  void TearDown() override {
    if (sec_thread_.joinable()) sec_thread_.join();
    if (!dir_.empty()) {
      std::string cmd = "rm -rf " + dir_;
      (void)std::system(cmd.c_str());
    }
  }

  // Starts both sides (the handshake needs both at once) and the secondary's
  // replay on its own thread.
  void StartPair(const std::string& cmdline) {
    opts_.kernel_path = testing::PathFromEnv("FTGUEST_ELF");
    opts_.memory_bytes = 64ull << 20;
    opts_.cmdline = cmdline;
    opts_.disks = {vmm::DiskSpec{.path = image_}};
    opts_.log_dirty_pages = true;
    opts_.console = console_.Sink();
    auto header = replay::HeaderForRecording(*kvm_, opts_);
    ASSERT_TRUE(header.ok()) << header.status();
    auto [a, b] = logchannel::MakeInProcPair({.capacity_bytes = 1 << 20});
    gate_ = std::make_shared<Gate>();
    auto gated = std::make_unique<GatedTransport>(std::move(b), gate_);
    sec_thread_ = std::thread([this, t = std::move(gated)]() mutable {
      auto sec = secondary::FtSecondary::Start(std::move(t),
                                               {.shared_secret = kSecret,
                                                .console = sec_console_,
                                                .metrics = &sec_metrics_,
                                                .max_resyncs = max_resyncs_});
      if (!sec.ok()) {
        absl::MutexLock lock(&mu_);
        sec_result_ = sec.status();
        return;
      }
      auto r = (*sec)->Run(*kvm_);
      absl::MutexLock lock(&mu_);
      sec_result_ = std::move(r);
    });
    auto p =
        primary::FtPrimary::Start(std::move(a), *header,
                                  {.shared_secret = kSecret,
                                   .peer_timeout = absl::Seconds(20),
                                   .protocol_versions = primary_versions_});
    ASSERT_TRUE(p.ok()) << p.status();
    primary_ = std::move(*p);
    opts_.hooks = primary_->hooks();
    opts_.output_gate = primary_->gate();
    auto m = vmm::Machine::Create(*kvm_, opts_);
    ASSERT_TRUE(m.ok()) << m.status();
    machine_ = std::move(*m);
    primary_->set_kick([m = machine_.get()] { m->Kick(); });
  }

  void ExpectAnUnrepairedDivergence();

  absl::StatusOr<secondary::SecondaryResult> SecondaryResult() {
    sec_thread_.join();
    absl::MutexLock lock(&mu_);
    return sec_result_;
  }

  // Bytes of the image that are not zero.
  size_t ImageNonZeroBytes() {
    std::ifstream in(image_, std::ios::binary);
    size_t n = 0;
    char c;
    while (in.get(c)) n += c != 0;
    return n;
  }

  std::string dir_, image_;
  vmm::MachineOptions opts_;
  testing::Console console_;
  std::shared_ptr<Gate> gate_;
  std::unique_ptr<primary::FtPrimary> primary_;
  std::unique_ptr<vmm::Machine> machine_;
  // The secondary's: its replayed guest's console, and its metrics.
  std::function<void(std::string_view)> sec_console_;
  metrics::Registry sec_metrics_;
  int max_resyncs_ = 3;
  std::vector<uint16_t> primary_versions_ =
      logchannel::SpokenProtocolVersions();
  std::thread sec_thread_;
  absl::Mutex mu_;
  absl::StatusOr<secondary::SecondaryResult> sec_result_ =
      absl::UnknownError("not run");
};

TEST_F(FtPairTest, DiskWritesWaitForTheSecondarysAcknowledgement) {
  StartPair("workload=disk mib=4 rate=500 seconds=1");
  ASSERT_NE(machine_, nullptr);
  // The secondary receives the log but acknowledges nothing for a while.
  gate_->SetOpen(false);
  absl::StatusOr<vmm::MachineResult> result;
  std::thread run([&] { result = machine_->Run(); });
  // Whatever fails below, the run ends before the test does.
  struct Joiner {
    std::thread& t;
    Gate* gate;
    ~Joiner() {
      gate->SetOpen(true);
      if (t.joinable()) t.join();
    }
  } joiner{run, gate_.get()};
  // The guest's first write is issued and held (the workload waits for
  // it)...
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (primary_->stats().outputs.outputs_held < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_GE(primary_->stats().outputs.outputs_held, 1u);
  // ...the guest keeps running (it exits and halts, waiting for them)...
  const uint64_t exits = machine_->vcpu_stats().exits;
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_GT(machine_->vcpu_stats().exits, exits);
  // ...and not one byte has reached the image.
  EXPECT_GT(primary_->stats().outputs.waiting, 0u);
  EXPECT_EQ(ImageNonZeroBytes(), 0u);
  // Acknowledgements flow again: the writes go out and the run completes.
  gate_->SetOpen(true);
  run.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0u) << console_.Text();
  EXPECT_THAT(console_.Text(), HasSubstr("status=ok"));
  EXPECT_GT(primary_->stats().outputs.outputs_held, 100u);
  ASSERT_TRUE(primary_->Finish(absl::Seconds(20)).ok());
  EXPECT_GT(ImageNonZeroBytes(), 0u);
  const auto stats = primary_->stats();
  EXPECT_TRUE(stats.protected_now);
  EXPECT_GE(stats.outputs.longest_hold, absl::Milliseconds(300));
  auto sec = SecondaryResult();
  ASSERT_TRUE(sec.ok()) << sec.status();
  EXPECT_TRUE(sec->completed) << sec->cut_short;
  EXPECT_FALSE(sec->divergence) << sec->divergence->ToString();
  EXPECT_GT(sec->replay.outputs, 0u);
  // The lag in positions is reported, and no more than the run had.
  EXPECT_THAT(sec_metrics_.ExportPrometheus(),
              HasSubstr("\nftvm_secondary_lag_positions "));
  EXPECT_LT(sec->max_lag_positions, sec->replay.positions);
}

TEST_F(FtPairTest, ASlowSecondaryReportsItsLagInPositions) {
  // The replay stalls at the guest's first console line, as on a busy
  // host; the primary runs on (the secondary still acknowledges on
  // receipt), and its heartbeats say how far.
  std::atomic<bool> stalled{false};
  sec_console_ = [&stalled](std::string_view) {
    if (!stalled.exchange(true)) absl::SleepFor(absl::Seconds(1));
  };
  StartPair("workload=disk mib=4 rate=500 seconds=1");
  ASSERT_NE(machine_, nullptr);
  metrics::Gauge* lag =
      sec_metrics_.GetGauge("ftvm_secondary_lag_positions", "");
  absl::StatusOr<vmm::MachineResult> result;
  std::atomic<bool> ran{false};
  std::thread run([&] {
    result = machine_->Run();
    ran = true;
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() {
      if (t.joinable()) t.join();
    }
  } joiner{run};
  double max_seen = 0;
  while (!ran.load()) {
    max_seen = std::max(max_seen, lag->value());
    absl::SleepFor(absl::Milliseconds(10));
  }
  run.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0u) << console_.Text();
  ASSERT_TRUE(primary_->Finish(absl::Seconds(20)).ok());
  auto sec = SecondaryResult();
  ASSERT_TRUE(sec.ok()) << sec.status();
  EXPECT_TRUE(sec->completed) << sec->cut_short;
  EXPECT_TRUE(stalled.load());
  EXPECT_GT(max_seen, 0) << "the gauge never showed a lag";
  EXPECT_GT(sec->max_lag_positions, 0u);
  EXPECT_GE(sec->max_lag_positions, static_cast<uint64_t>(max_seen));
  EXPECT_LT(sec->max_lag_positions, sec->replay.positions);
}

TEST_F(FtPairTest, ThePrimaryRunsOnUnprotectedWhenTheSecondaryDisappears) {
  StartPair("workload=disk mib=4 rate=500 seconds=1");
  ASSERT_NE(machine_, nullptr);
  absl::StatusOr<vmm::MachineResult> result;
  std::thread run([&] { result = machine_->Run(); });
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (primary_->stats().outputs.outputs_held < 10 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  gate_->Cut();  // the secondary's host is gone
  run.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0u) << console_.Text();
  EXPECT_THAT(console_.Text(), HasSubstr("status=ok"));
  const auto stats = primary_->stats();
  EXPECT_FALSE(stats.protected_now);
  EXPECT_FALSE(stats.lost_reason.empty());
  EXPECT_FALSE(primary_->Finish(absl::Seconds(5)).ok());
  EXPECT_EQ(stats.outputs.waiting, 0u);
  EXPECT_GT(ImageNonZeroBytes(), 0u);
  auto sec = SecondaryResult();
  ASSERT_TRUE(sec.ok()) << sec.status();
  EXPECT_FALSE(sec->completed);
  EXPECT_FALSE(sec->divergence);
}

TEST_F(FtPairTest, ADivergenceIsRepairedByAResync) {
  // The one workload that reads the TSC: the replay leaves the run at the
  // canary. The guest then reads and writes its disk on timer ticks for
  // two seconds, which the resynchronised secondary must replay exactly.
  StartPair("workload=tsccanary disk_seconds=2");
  ASSERT_NE(machine_, nullptr);
  auto result = machine_->Run();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 0u) << console_.Text();
  EXPECT_THAT(console_.Text(), HasSubstr("status=ok"));
  primary_->set_kick(nullptr);
  ASSERT_TRUE(primary_->Finish(absl::Seconds(20)).ok());
  const auto stats = primary_->stats();
  EXPECT_TRUE(stats.protected_now) << stats.lost_reason;
  EXPECT_EQ(stats.resyncs, 1u);
  EXPECT_EQ(primary_->recorder().stats().full_checkpoints, 1u);
  auto sec = SecondaryResult();
  ASSERT_TRUE(sec.ok()) << sec.status();
  // The canary's divergence was repaired, and the replay from the full
  // checkpoint reached the primary's end with its final digest (registers
  // and all of memory) equal.
  ASSERT_EQ(sec->resynced.size(), 1u);
  // (Where the canary shows depends on its bits: an exit or a clock read
  // the log does not have.)
  EXPECT_FALSE(sec->resynced[0].log_ended);
  EXPECT_FALSE(sec->divergence) << sec->divergence->ToString();
  EXPECT_TRUE(sec->completed) << sec->cut_short;
  EXPECT_TRUE(sec->final_digest.has_value());
  // The disk part ran after the resync: its writes were checked there.
  EXPECT_GT(sec->replay.outputs, 100u);
  EXPECT_THAT(sec_metrics_.ExportPrometheus(),
              HasSubstr("\nftvm_divergences_total 1\n"));
}

// Runs the TSC canary (it diverges) to its end and checks that the
// secondary gave up without a resync, and that the primary learned it as
// the channel's end.
void FtPairTest::ExpectAnUnrepairedDivergence() {
  StartPair("workload=tsccanary");
  ASSERT_NE(machine_, nullptr);
  auto result = machine_->Run();
  ASSERT_TRUE(result.ok()) << result.status();
  auto sec = SecondaryResult();
  ASSERT_TRUE(sec.ok()) << sec.status();
  ASSERT_TRUE(sec->divergence)
      << "completed=" << sec->completed << " cut short: " << sec->cut_short;
  EXPECT_TRUE(sec->resynced.empty());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (primary_->is_protected() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_FALSE(primary_->is_protected());
  EXPECT_THAT(primary_->stats().lost_reason, HasSubstr("diverged"));
  EXPECT_EQ(primary_->stats().resyncs, 0u);
}

TEST_F(FtPairTest, ADivergenceBeyondTheResyncsIsReportedToThePrimary) {
  max_resyncs_ = 0;
  ExpectAnUnrepairedDivergence();
}

// A primary of the previous build (protocol 3) has no RESYNC: the secondary
// does not wait for one it would never get, and gives up at once.
TEST_F(FtPairTest, ADivergenceUnderAnOlderPrimaryIsNotLeftWaitingForAResync) {
  primary_versions_ = {3};
  ExpectAnUnrepairedDivergence();
}

}  // namespace
}  // namespace ft
