// Tests for the RDMA transport. The device-free part (rdma_wire.h: the
// connection details, the immediate data, the credit accounting) runs
// everywhere; the device tests skip, saying why, when ibv_get_device_list
// finds no device (as on the CI machines).
#include <infiniband/verbs.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "logchannel/channel.h"
#include "logchannel/rdma_transport.h"
#include "logchannel/rdma_wire.h"
#include "tests/unit/logchannel/channel_test_util.h"

namespace ft::logchannel {
namespace {

using ::ft::logchannel::testing::Options;
using ::ft::logchannel::testing::Payload;
using ::testing::HasSubstr;

RdmaConnInfo Info() {
  RdmaConnInfo i{.mtu = 3,
                 .qp_num = 0x1234,
                 .psn = 0xabcdef,
                 .lid = 7,
                 .depth = 32,
                 .buffer_bytes = 65536};
  i.gid[15] = 1;
  return i;
}

TEST(RdmaConnInfoTest, RoundTripAndLayout) {
  const std::vector<uint8_t> b = EncodeRdmaConnInfo(Info());
  ASSERT_EQ(b.size(), kRdmaInfoBytes);
  EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.begin() + 8),
            (std::vector<uint8_t>{'F', 'T', 'R', 'B', 1, 0, 3, 0}));
  absl::StatusOr<RdmaConnInfo> back = DecodeRdmaConnInfo(b);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, Info());
}

TEST(RdmaConnInfoTest, EveryFieldIsChecked) {
  struct Case {
    std::string name;
    std::function<void(std::vector<uint8_t>&)> damage;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"short", [](auto& b) { b.pop_back(); }, "43 bytes, not 44"},
      {"magic", [](auto& b) { b[0] = 'X'; }, "bad magic"},
      {"version", [](auto& b) { b[4] = 2; }, "version 2"},
      {"mtu", [](auto& b) { b[6] = 6; }, "path MTU code 6"},
      {"mtu zero", [](auto& b) { b[6] = 0; }, "path MTU code 0"},
      {"padding", [](auto& b) { b[7] = 1; }, "padding"},
      {"qp reserved",
       [](auto& b) {
         b[8] = 1;
         b[9] = 0;
       },
       "QP number 1"},
      {"qp 24 bits", [](auto& b) { b[11] = 1; }, "QP number"},
      {"psn", [](auto& b) { b[15] = 1; }, "exceeds 24 bits"},
      {"no address",
       [](auto& b) {
         b[16] = 0;
         b[35] = 0;
       },
       "neither a LID nor a GID"},
      {"depth", [](auto& b) { b[36] = 1; }, "receive depth 1"},
      {"buffer",
       [](auto& b) {
         b[42] = 0;
         b[41] = 0;
         b[40] = 1;
       },
       "receive buffers of 1 bytes"},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> b = EncodeRdmaConnInfo(Info());
    c.damage(b);
    absl::StatusOr<RdmaConnInfo> r = DecodeRdmaConnInfo(b);
    EXPECT_TRUE(absl::IsDataLoss(r.status())) << c.name << ": " << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr(c.error)) << c.name;
  }
}

TEST(RdmaImmTest, RoundTripAndUnknownBits) {
  for (const RdmaImm imm : {RdmaImm{0, false}, RdmaImm{17, false},
                            RdmaImm{4096, true}, RdmaImm{0xffff, true}}) {
    absl::StatusOr<RdmaImm> back = DecodeRdmaImm(EncodeRdmaImm(imm));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, imm);
  }
  EXPECT_TRUE(absl::IsDataLoss(DecodeRdmaImm(0x00010000).status()));
}

TEST(CreditWindowTest, KeepsOneCreditForReturningCredits) {
  CreditWindow w(/*own_depth=*/8, /*peer_depth=*/4);
  EXPECT_EQ(w.credits(), 4u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(w.CanSendData());
    EXPECT_EQ(w.TakeForSend(), 0u);
  }
  EXPECT_FALSE(w.CanSendData());  // the last credit is reserved
  EXPECT_FALSE(w.ShouldReturnCredits());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(w.OnReposted().ok());
  EXPECT_TRUE(w.ShouldReturnCredits());  // half of 8 pending
  EXPECT_EQ(w.TakeForSend(), 4u);        // the reserve carries them
  EXPECT_EQ(w.credits(), 0u);
  EXPECT_FALSE(w.ShouldReturnCredits());
  ASSERT_TRUE(w.OnCreditsReturned(4).ok());
  EXPECT_EQ(w.credits(), 4u);
}

TEST(CreditWindowTest, RefusesAPeerThatDoesNotKeepCount) {
  CreditWindow w(4, 4);
  (void)w.TakeForSend();
  EXPECT_TRUE(w.OnCreditsReturned(1).ok());
  absl::Status s = w.OnCreditsReturned(1);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("does not keep count"));
  CreditWindow full(4, 4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(full.OnReposted().ok());
  EXPECT_FALSE(full.OnReposted().ok());
}

// Two endpoints exchanging messages through simulated queues, in a random
// order of steps: every byte of data arrives, no message is ever sent
// without a buffer posted for it, and neither side ends up waiting for the
// other with work left (no deadlock).
TEST(CreditWindowTest, RandomSchedulesNeverDeadlockOrOverrun) {
  struct Side {
    CreditWindow window;
    uint32_t depth;
    uint32_t posted;                // receive buffers posted
    std::deque<uint32_t> incoming;  // credits carried, per message in flight
    std::deque<bool> unread;        // received messages not yet consumed
    int to_send;                    // data messages left to send
    int received_data = 0;
  };
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    const uint32_t da = 4 + rng() % 8;
    const uint32_t db = 4 + rng() % 8;
    Side sides[2] = {{CreditWindow(da, db), da, da, {}, {}, int(rng() % 200)},
                     {CreditWindow(db, da), db, db, {}, {}, int(rng() % 200)}};
    const int want[2] = {sides[1].to_send, sides[0].to_send};
    int idle = 0;
    for (int step = 0; step < 100000 && idle < 1000; ++step) {
      Side& me = sides[rng() % 2];
      Side& peer = &me == &sides[0] ? sides[1] : sides[0];
      bool progressed = false;
      switch (rng() % 4) {
        case 0:  // send data
          if (me.to_send > 0 && me.window.CanSendData()) {
            ASSERT_GT(peer.posted, 0u) << "sent without a posted buffer";
            --peer.posted;
            peer.incoming.push_back(me.window.TakeForSend() | 0x10000);
            --me.to_send;
            progressed = true;
          }
          break;
        case 1:  // return credits
          if (me.window.ShouldReturnCredits()) {
            ASSERT_GT(peer.posted, 0u) << "sent without a posted buffer";
            --peer.posted;
            peer.incoming.push_back(me.window.TakeForSend());
            progressed = true;
          }
          break;
        case 2:  // a message completes at me
          if (!me.incoming.empty()) {
            const uint32_t m = me.incoming.front();
            me.incoming.pop_front();
            ASSERT_TRUE(me.window.OnCreditsReturned(m & 0xffff).ok());
            me.unread.push_back((m & 0x10000) != 0);
            progressed = true;
          }
          break;
        case 3:  // the reader consumes one message; its buffer is reposted
          if (!me.unread.empty()) {
            me.received_data += me.unread.front() ? 1 : 0;
            me.unread.pop_front();
            ++me.posted;
            ASSERT_TRUE(me.window.OnReposted().ok());
            progressed = true;
          }
          break;
      }
      idle = progressed ? 0 : idle + 1;
    }
    EXPECT_EQ(sides[0].received_data, want[0]) << "round " << round;
    EXPECT_EQ(sides[1].received_data, want[1]) << "round " << round;
  }
}

// Skips the calling test, printing why, when there is no RDMA device.
#define SKIP_WITHOUT_RDMA_DEVICE()                                       \
  do {                                                                   \
    int count = 0;                                                       \
    ibv_device** list = ibv_get_device_list(&count);                     \
    const int err = errno;                                               \
    if (list != nullptr) ibv_free_device_list(list);                     \
    if (list == nullptr || count == 0) {                                 \
      GTEST_SKIP() << "no RDMA device: ibv_get_device_list found none (" \
                   << (list == nullptr ? strerrordesc_np(err)            \
                                       : "an empty list")                \
                   << "); the RDMA transport's device tests need one";   \
    }                                                                    \
  } while (false)

TEST(RdmaDeviceTest, NoDeviceIsAClearError) {
  if (!RdmaDeviceNames().empty()) GTEST_SKIP() << "this host has a device";
  absl::Status s = RdmaConnector({.local_address = "127.0.0.1",
                                  .remote_address = "127.0.0.1",
                                  .remote_port = 1},
                                 {})
                       .Connect(absl::Now() + absl::Seconds(1))
                       .status();
  EXPECT_TRUE(absl::IsNotFound(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("no RDMA device on this host"));
  EXPECT_TRUE(absl::IsNotFound(
      RdmaListener::Listen({.address = "127.0.0.1"}, {}).status()));
}

TEST(RdmaDeviceTest, ChannelOverRdmaLoopback) {
  SKIP_WITHOUT_RDMA_DEVICE();
  absl::StatusOr<std::unique_ptr<RdmaListener>> l =
      RdmaListener::Listen({.address = "127.0.0.1"}, {});
  ASSERT_TRUE(l.ok()) << l.status();
  absl::StatusOr<std::unique_ptr<Channel>> secondary =
      absl::UnknownError("not run");
  std::thread t([&] {
    absl::StatusOr<std::unique_ptr<Transport>> s =
        (*l)->Accept(absl::Now() + absl::Seconds(10));
    if (!s.ok()) {
      secondary = s.status();
      return;
    }
    secondary = Channel::Open(std::move(*s), Options(Role::kSecondary));
  });
  absl::StatusOr<std::unique_ptr<Transport>> c =
      RdmaConnector({.local_address = "127.0.0.1",
                     .remote_address = "127.0.0.1",
                     .remote_port = (*l)->port()},
                    {})
          .Connect(absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<std::unique_ptr<Channel>> primary =
      Channel::Open(std::move(*c), Options(Role::kPrimary));
  t.join();
  ASSERT_TRUE(primary.ok()) << primary.status();
  ASSERT_TRUE(secondary.ok()) << secondary.status();
  constexpr int kRecords = 300;
  testing::TestThread sender(
      [&] {
        for (int i = 1; i <= kRecords; ++i) {
          ASSERT_TRUE((*primary)->Send(Payload((i * 997) % 200000, i)).ok());
        }
      },
      [&] { (*primary)->Close("test failed"); });
  for (int i = 1; i <= kRecords; ++i) {
    absl::StatusOr<ReceivedData> r =
        (*secondary)->Receive(absl::Now() + absl::Seconds(10));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->payload, Payload((i * 997) % 200000, i));
    ASSERT_TRUE((*secondary)->Ack(r->sequence).ok());
  }
  sender.Join();
  EXPECT_TRUE(
      (*primary)
          ->WaitAcked(SequenceNumber(kRecords), absl::Now() + absl::Seconds(10))
          .ok());
}

}  // namespace
}  // namespace ft::logchannel
