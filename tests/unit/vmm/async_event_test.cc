// Tests for vmm/events/async_event.h.
#include "vmm/events/async_event.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ft::vmm {
namespace {

class Recorder : public AsyncEventSink {
 public:
  void OnAsyncEvent(const AsyncEvent& event) override { seen.push_back(event); }
  std::vector<AsyncEvent> seen;
};

TEST(AsyncEventQueueTest, DeliversInPostingOrderToTheRightSink) {
  AsyncEventQueue q;
  Recorder a, b;
  const uint32_t ia = q.Register(&a);
  const uint32_t ib = q.Register(&b);
  EXPECT_NE(ia, ib);
  q.Post({.source = ia, .kind = 1, .data = {1}});
  q.Post({.source = ib, .kind = 2, .data = {2}});
  q.Post({.source = ia, .kind = 3, .data = {3, 4}});
  EXPECT_TRUE(q.HasPending());
  EXPECT_EQ(q.DeliverPending(), 3u);
  EXPECT_FALSE(q.HasPending());
  ASSERT_EQ(a.seen.size(), 2u);
  EXPECT_EQ(a.seen[0].kind, 1u);
  EXPECT_EQ(a.seen[1].kind, 3u);
  EXPECT_EQ(a.seen[1].data, (std::vector<uint8_t>{3, 4}));
  ASSERT_EQ(b.seen.size(), 1u);
  EXPECT_EQ(b.seen[0].data, (std::vector<uint8_t>{2}));
  EXPECT_EQ(q.DeliverPending(), 0u);
}

TEST(AsyncEventQueueTest, WakeIsCalledAfterEachPost) {
  AsyncEventQueue q;
  Recorder r;
  const uint32_t id = q.Register(&r);
  int wakes = 0;
  bool queued_at_wake = false;
  q.SetWake([&] {
    ++wakes;
    queued_at_wake = q.HasPending();  // the event is visible by then
  });
  q.Post({.source = id});
  q.Post({.source = id});
  EXPECT_EQ(wakes, 2);
  EXPECT_TRUE(queued_at_wake);
}

TEST(AsyncEventQueueTest, WaitForEventHonoursTheDeadline) {
  AsyncEventQueue q;
  Recorder r;
  q.Register(&r);
  const absl::Time start = absl::Now();
  EXPECT_FALSE(q.WaitForEvent(start + absl::Milliseconds(30)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
}

TEST(AsyncEventQueueTest, WaitForEventReturnsWhenAnotherThreadPosts) {
  AsyncEventQueue q;
  Recorder r;
  const uint32_t id = q.Register(&r);
  std::thread poster([&] {
    absl::SleepFor(absl::Milliseconds(20));
    q.Post({.source = id, .kind = 7});
  });
  EXPECT_TRUE(q.WaitForEvent(absl::Now() + absl::Seconds(10)));
  poster.join();
  EXPECT_EQ(q.DeliverPending(), 1u);
  EXPECT_EQ(r.seen.at(0).kind, 7u);
  // Already pending: returns at once.
  q.Post({.source = id});
  EXPECT_TRUE(q.WaitForEvent(absl::InfinitePast()));
}

TEST(AsyncEventQueueTest, ManyPostersLoseNothing) {
  AsyncEventQueue q;
  Recorder r;
  const uint32_t id = q.Register(&r);
  std::atomic<int> wakes{0};
  q.SetWake([&] { ++wakes; });
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&q, id, t] {
      for (int i = 0; i < 1000; ++i) {
        q.Post({.source = id, .kind = static_cast<uint32_t>(t)});
      }
    });
  }
  size_t delivered = 0;
  while (delivered < 4000) {
    q.WaitForEvent(absl::Now() + absl::Seconds(10));
    delivered += q.DeliverPending();
  }
  for (auto& p : posters) p.join();
  EXPECT_EQ(delivered, 4000u);
  EXPECT_EQ(wakes, 4000);
}

TEST(AsyncEventQueueDeathTest, UnknownSourceIsAnInvariantBreach) {
  AsyncEventQueue q;
  EXPECT_DEATH(q.Post({.source = 3}), "unknown source 3");
}

}  // namespace
}  // namespace ft::vmm
