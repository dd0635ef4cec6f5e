// Tests for vmm/events/event_loop.h with real fds (pipes) and real time.
// Deadlines are generous: the machines are shared and noisy.
#include "vmm/events/event_loop.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

constexpr absl::Duration kPatience = absl::Seconds(10);

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    read_end.Reset(fds[0]);
    write_end.Reset(fds[1]);
  }
  void Put(char c) { ASSERT_EQ(::write(write_end.get(), &c, 1), 1); }
  UniqueFd read_end;
  UniqueFd write_end;
};

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create("test-loop");
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = std::move(*loop);
  }
  std::unique_ptr<EventLoop> loop_;
};

TEST_F(EventLoopTest, FdCallbackRunsOnTheLoopThread) {
  Pipe p;
  absl::Notification got;
  std::atomic<bool> on_loop{false};
  std::string data;
  ASSERT_TRUE(loop_
                  ->AddFd(p.read_end.get(), EPOLLIN,
                          [&](uint32_t events) {
                            EXPECT_TRUE(events & EPOLLIN);
                            char c;
                            while (::read(p.read_end.get(), &c, 1) == 1) {
                              data.push_back(c);
                            }
                            on_loop = loop_->InLoopThread();
                            if (data == "ab" && !got.HasBeenNotified()) {
                              got.Notify();
                            }
                          })
                  .ok());
  loop_->Start();
  p.Put('a');
  p.Put('b');
  ASSERT_TRUE(got.WaitForNotificationWithTimeout(kPatience));
  EXPECT_TRUE(on_loop);
  EXPECT_FALSE(loop_->InLoopThread());
  loop_->Stop();
  EXPECT_EQ(data, "ab");
}

TEST_F(EventLoopTest, AddingAnFdTwiceIsRefused) {
  Pipe p;
  ASSERT_TRUE(loop_->AddFd(p.read_end.get(), EPOLLIN, [](uint32_t) {}).ok());
  absl::Status again = loop_->AddFd(p.read_end.get(), EPOLLIN, [](uint32_t) {});
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_TRUE(loop_->RemoveFd(p.read_end.get()).ok());
  EXPECT_EQ(loop_->RemoveFd(p.read_end.get()).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(EventLoopTest, RemoveFdWaitsForARunningCallback) {
  Pipe p;
  absl::Notification entered;
  absl::Notification release;
  std::atomic<int> calls{0};
  std::atomic<bool> finished{false};
  ASSERT_TRUE(loop_
                  ->AddFd(p.read_end.get(), EPOLLIN,
                          [&](uint32_t) {
                            ++calls;
                            entered.Notify();
                            release.WaitForNotification();
                            absl::SleepFor(absl::Milliseconds(20));
                            finished = true;
                          })
                  .ok());
  loop_->Start();
  p.Put('x');  // never read: the fd stays readable (level-triggered)
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kPatience));
  release.Notify();
  ASSERT_TRUE(loop_->RemoveFd(p.read_end.get()).ok());
  EXPECT_TRUE(finished) << "RemoveFd returned while the callback ran";
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(calls, 1);  // never called again
}

TEST_F(EventLoopTest, RemoveFdFromItsOwnCallback) {
  Pipe p;
  absl::Notification done;
  std::atomic<int> calls{0};
  ASSERT_TRUE(loop_
                  ->AddFd(p.read_end.get(), EPOLLIN,
                          [&](uint32_t) {
                            ++calls;
                            EXPECT_TRUE(loop_->RemoveFd(p.read_end.get()).ok());
                            done.Notify();
                          })
                  .ok());
  loop_->Start();
  p.Put('x');
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kPatience));
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(calls, 1);
}

TEST_F(EventLoopTest, TimersRunInDeadlineOrder) {
  absl::Mutex mu;
  std::vector<int> order;
  absl::Notification last;
  const int64_t now = EventLoop::MonotonicNanos();
  auto record = [&](int n) {
    return [&, n] {
      absl::MutexLock lock(&mu);
      order.push_back(n);
      if (order.size() == 4) last.Notify();
    };
  };
  loop_->ScheduleAt(now + 30'000'000, record(3));
  loop_->ScheduleAt(now + 10'000'000, record(1));
  loop_->ScheduleAt(now + 20'000'000, record(2));
  loop_->ScheduleAt(now + 20'000'000, record(22));  // ties: schedule order
  loop_->Start();
  ASSERT_TRUE(last.WaitForNotificationWithTimeout(kPatience));
  EXPECT_GE(EventLoop::MonotonicNanos(), now + 30'000'000);
  absl::MutexLock lock(&mu);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 22, 3}));
}

TEST_F(EventLoopTest, TimerDoesNotFireEarly) {
  loop_->Start();
  absl::Notification fired;
  std::atomic<int64_t> at{0};
  const int64_t deadline = EventLoop::MonotonicNanos() + 50'000'000;
  loop_->ScheduleAt(deadline, [&] {
    at = EventLoop::MonotonicNanos();
    fired.Notify();
  });
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(kPatience));
  EXPECT_GE(at.load(), deadline);
}

TEST_F(EventLoopTest, PastDeadlinesRunAtOnce) {
  loop_->Start();
  absl::Notification fired;
  loop_->ScheduleAt(0, [&] { fired.Notify(); });  // 0 must not disarm
  EXPECT_TRUE(fired.WaitForNotificationWithTimeout(kPatience));
  absl::Notification again;
  loop_->ScheduleAt(-5, [&] { again.Notify(); });
  EXPECT_TRUE(again.WaitForNotificationWithTimeout(kPatience));
}

TEST_F(EventLoopTest, EarlierTimerScheduledLaterRearms) {
  loop_->Start();
  absl::Notification late, early;
  loop_->ScheduleAfter(absl::Seconds(60), [&] { late.Notify(); });
  loop_->ScheduleAfter(absl::Milliseconds(5), [&] { early.Notify(); });
  EXPECT_TRUE(early.WaitForNotificationWithTimeout(kPatience));
  EXPECT_FALSE(late.HasBeenNotified());
}

TEST_F(EventLoopTest, CancelledTimerNeverRuns) {
  loop_->Start();
  std::atomic<bool> ran{false};
  absl::Notification after;
  auto id = loop_->ScheduleAfter(absl::Milliseconds(20), [&] { ran = true; });
  loop_->ScheduleAfter(absl::Milliseconds(60), [&] { after.Notify(); });
  EXPECT_TRUE(loop_->Cancel(id));
  EXPECT_FALSE(loop_->Cancel(id));  // only once
  ASSERT_TRUE(after.WaitForNotificationWithTimeout(kPatience));
  EXPECT_FALSE(ran);
  EXPECT_FALSE(loop_->Cancel(12345));
}

TEST_F(EventLoopTest, CancelAfterRunningReturnsFalse) {
  loop_->Start();
  absl::Notification fired;
  auto id =
      loop_->ScheduleAfter(absl::Milliseconds(1), [&] { fired.Notify(); });
  ASSERT_TRUE(fired.WaitForNotificationWithTimeout(kPatience));
  absl::SleepFor(absl::Milliseconds(5));
  EXPECT_FALSE(loop_->Cancel(id));
}

TEST_F(EventLoopTest, TimerCallbackCanScheduleAndCancel) {
  loop_->Start();
  absl::Notification second;
  std::atomic<bool> cancelled_ran{false};
  loop_->ScheduleAfter(absl::Milliseconds(1), [&] {
    auto doomed = loop_->ScheduleAfter(absl::Milliseconds(5),
                                       [&] { cancelled_ran = true; });
    EXPECT_TRUE(loop_->Cancel(doomed));
    loop_->ScheduleAfter(absl::Milliseconds(1), [&] { second.Notify(); });
  });
  ASSERT_TRUE(second.WaitForNotificationWithTimeout(kPatience));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(cancelled_ran);
}

TEST_F(EventLoopTest, StopJoinsAndRunsNothingAfter) {
  Pipe p;
  std::atomic<int> fd_calls{0};
  std::atomic<int> timer_calls{0};
  ASSERT_TRUE(
      loop_->AddFd(p.read_end.get(), EPOLLIN, [&](uint32_t) { ++fd_calls; })
          .ok());
  loop_->Start();
  loop_->Stop();
  p.Put('x');
  loop_->ScheduleAt(0, [&] { ++timer_calls; });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(fd_calls, 0);
  EXPECT_EQ(timer_calls, 0);
  loop_->Stop();  // idempotent
}

TEST_F(EventLoopTest, StopWithoutStartAndDestroyWithPendingWork) {
  loop_->ScheduleAfter(absl::Seconds(1), [] { FAIL() << "ran"; });
  loop_->Stop();
  loop_.reset();
}

TEST_F(EventLoopTest, StopIsPromptWithAFarTimer) {
  loop_->ScheduleAfter(absl::Hours(1), [] {});
  loop_->Start();
  const absl::Time start = absl::Now();
  loop_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

}  // namespace
}  // namespace ft::vmm
