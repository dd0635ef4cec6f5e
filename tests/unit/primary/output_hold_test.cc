// OutputHold, the Output Rule's mechanism: an output is released only once
// the log up to its marker is acknowledged, in order per device; requests
// that are not outputs wait behind the outputs of their device; losing the
// secondary releases everything.
#include "primary/output_hold.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::primary {
namespace {

using ::testing::ElementsAre;

class OutputHoldTest : public ::testing::Test {
 protected:
  OutputHoldTest()
      : hold_({.logged_up_to = [this] { return logged_.load(); },
               .metrics = &metrics_}) {}

  // Holds output `id` on `stream` as if its marker went out in log record
  // `record`.
  void Output(uint32_t stream, uint64_t record, int id) {
    logged_ = record;
    hold_.Hold(stream, /*is_output=*/true, [this, id] { Released(id); });
  }
  void Request(uint32_t stream, int id) {
    hold_.Hold(stream, /*is_output=*/false, [this, id] { Released(id); });
  }
  void Released(int id) {
    absl::MutexLock lock(&mu_);
    released_.push_back(id);
  }
  // What was released once `n` releases happened (or after a while).
  std::vector<int> ReleasedWhen(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [&] { return released_.size() >= n; };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
    return released_;
  }
  // What was released after giving the release thread time to act.
  std::vector<int> ReleasedSettled() {
    absl::SleepFor(absl::Milliseconds(50));
    absl::MutexLock lock(&mu_);
    return released_;
  }

  metrics::Registry metrics_;
  std::atomic<uint64_t> logged_{0};
  OutputHold hold_;
  absl::Mutex mu_;
  std::vector<int> released_;
};

TEST_F(OutputHoldTest, NothingLeavesBeforeItsLogIsAcknowledged) {
  Output(0, 5, 1);
  Output(0, 7, 2);
  EXPECT_THAT(ReleasedSettled(), ElementsAre());
  hold_.Acknowledged(4);
  EXPECT_THAT(ReleasedSettled(), ElementsAre());
  hold_.Acknowledged(5);
  EXPECT_THAT(ReleasedWhen(1), ElementsAre(1));
  EXPECT_THAT(ReleasedSettled(), ElementsAre(1));
  hold_.Acknowledged(9);
  EXPECT_THAT(ReleasedWhen(2), ElementsAre(1, 2));
  ASSERT_TRUE(hold_.Drain(absl::Now() + absl::Seconds(5)));
  EXPECT_EQ(hold_.stats().outputs_held, 2u);
  EXPECT_EQ(hold_.stats().waiting, 0u);
}

TEST_F(OutputHoldTest, AReadWaitsBehindTheWritesOfItsDeviceOnly) {
  Output(0, 3, 1);  // a disk write
  Request(0, 2);    // a read of the same disk: must see the write
  Request(1, 3);    // a read of another disk: nothing to wait for
  EXPECT_THAT(ReleasedWhen(1), ElementsAre(3));
  EXPECT_THAT(ReleasedSettled(), ElementsAre(3));
  hold_.Acknowledged(3);
  EXPECT_THAT(ReleasedWhen(3), ElementsAre(3, 1, 2));
}

TEST_F(OutputHoldTest, AcknowledgementsAreCumulative) {
  for (int i = 1; i <= 20; ++i) Output(i % 3, i, i);
  hold_.Acknowledged(20);
  std::vector<int> got = ReleasedWhen(20);
  ASSERT_EQ(got.size(), 20u);
  // In order within each device.
  for (uint32_t stream = 0; stream < 3; ++stream) {
    int last = 0;
    for (int id : got) {
      if (id % 3 != static_cast<int>(stream)) continue;
      EXPECT_GT(id, last);
      last = id;
    }
  }
}

TEST_F(OutputHoldTest, LosingTheSecondaryReleasesEverythingAndHoldsNoMore) {
  Output(0, 10, 1);
  Output(1, 11, 2);
  EXPECT_THAT(ReleasedSettled(), ElementsAre());
  hold_.Unprotect();
  EXPECT_EQ(ReleasedWhen(2).size(), 2u);
  Output(0, 12, 3);  // never acknowledged, goes out anyway
  EXPECT_EQ(ReleasedWhen(3).size(), 3u);
  EXPECT_TRUE(hold_.stats().unprotected);
}

TEST_F(OutputHoldTest, HoldTimesAreMeasuredAndExported) {
  Output(0, 1, 1);
  absl::SleepFor(absl::Milliseconds(20));
  hold_.Acknowledged(1);
  ASSERT_EQ(ReleasedWhen(1).size(), 1u);
  ASSERT_TRUE(hold_.Drain(absl::Now() + absl::Seconds(5)));
  EXPECT_GE(hold_.stats().longest_hold, absl::Milliseconds(20));
  const std::string text = metrics_.ExportPrometheus();
  EXPECT_THAT(text, ::testing::HasSubstr("ftvm_outputs_held_total 1"));
  EXPECT_THAT(text, ::testing::HasSubstr("ftvm_output_hold_seconds_count 1"));
}

TEST_F(OutputHoldTest, StopDropsWhatIsHeld) {
  Output(0, 1, 1);
  hold_.Stop();
  hold_.Acknowledged(1);
  EXPECT_THAT(ReleasedSettled(), ElementsAre());
  EXPECT_EQ(hold_.stats().waiting, 0u);
  Output(0, 1, 2);  // after Stop: ignored
  EXPECT_THAT(ReleasedSettled(), ElementsAre());
}

}  // namespace
}  // namespace ft::primary
