// Tests for logchannel/channel.h over in-process transports: records in
// order, acknowledgements, heartbeats, backpressure and closing. The
// handshake, protocol versions and a misbehaving peer are in
// channel_peer_test.cc.
#include "logchannel/channel.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/logchannel/channel_test_util.h"

namespace ft::logchannel {
namespace {

using ::ft::logchannel::testing::ChannelPair;
using ::ft::logchannel::testing::Eventually;
using ::ft::logchannel::testing::In;
using ::ft::logchannel::testing::OpenChannelPair;
using ::ft::logchannel::testing::Options;
using ::ft::logchannel::testing::Payload;
using ::ft::logchannel::testing::RawPeer;
using ::ft::logchannel::testing::TestThread;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ChannelTest, ManyRecordsArriveInOrderAndAreAcknowledged) {
  std::vector<uint64_t> acks;
  absl::Mutex acks_mu;
  absl::StatusOr<ChannelPair> c =
      OpenChannelPair([&](ChannelOptions& po, ChannelOptions&) {
        po.on_ack = [&](SequenceNumber n) {
          absl::MutexLock lock(&acks_mu);
          acks.push_back(n.value());
        };
      });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  EXPECT_EQ(primary.version(), kProtocolVersion);
  EXPECT_TRUE(primary.encrypted());
  EXPECT_EQ(primary.peer_role(), Role::kSecondary);

  constexpr int kRecords = 2000;
  TestThread sender(
      [&] {
        for (int i = 1; i <= kRecords; ++i) {
          absl::StatusOr<SequenceNumber> seq =
              primary.Send(Payload((i * 37) % 5000, i));
          ASSERT_TRUE(seq.ok()) << seq.status();
          ASSERT_EQ(seq->value(), uint64_t(i));
        }
      },
      [&] { primary.Close("test failed"); });
  for (int i = 1; i <= kRecords; ++i) {
    absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->sequence.value(), uint64_t(i));
    ASSERT_EQ(r->payload, Payload((i * 37) % 5000, i)) << "record " << i;
    if (i % 10 == 0) {
      ASSERT_TRUE(secondary.Ack(r->sequence).ok());
    }
  }
  sender.Join();
  ASSERT_TRUE(
      primary.WaitAcked(SequenceNumber(kRecords), In(absl::Seconds(10))).ok());
  EXPECT_EQ(primary.acked(), SequenceNumber(kRecords));
  EXPECT_EQ(primary.last_sent(), SequenceNumber(kRecords));
  EXPECT_EQ(primary.stats().unacked_bytes, 0u);
  EXPECT_EQ(primary.stats().data_records_sent, uint64_t(kRecords));
  EXPECT_EQ(secondary.stats().data_records_received, uint64_t(kRecords));
  // on_ack runs just after acked() advances, on the reader thread.
  EXPECT_TRUE(Eventually([&] {
    absl::MutexLock lock(&acks_mu);
    return !acks.empty() && acks.back() == uint64_t(kRecords);
  }));
  {
    absl::MutexLock lock(&acks_mu);
    EXPECT_TRUE(std::is_sorted(acks.begin(), acks.end()));
  }
  EXPECT_TRUE(primary.status().ok());
  EXPECT_TRUE(secondary.status().ok());
}

TEST(ChannelTest, AckRules) {
  absl::StatusOr<ChannelPair> c = OpenChannelPair();
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  ASSERT_TRUE(primary.Send(Payload(10, 1)).ok());
  ASSERT_TRUE(primary.Send(Payload(10, 2)).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(
      primary.WaitAcked(SequenceNumber(3), In(absl::Seconds(1)))));
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      primary.WaitAcked(SequenceNumber(1), In(absl::Milliseconds(20)))));
  ASSERT_TRUE(secondary.Receive(In(absl::Seconds(10))).ok());
  // Only what Receive returned can be acknowledged.
  absl::Status beyond = secondary.Ack(SequenceNumber(2));
  EXPECT_TRUE(absl::IsInvalidArgument(beyond)) << beyond;
  ASSERT_TRUE(secondary.Ack(SequenceNumber(1)).ok());
  ASSERT_TRUE(secondary.Ack(SequenceNumber(1)).ok());  // again: a no-op
  ASSERT_TRUE(secondary.Receive(In(absl::Seconds(10))).ok());
  ASSERT_TRUE(secondary.Ack(SequenceNumber(2)).ok());
  EXPECT_TRUE(secondary.Ack(SequenceNumber(1)).ok());  // older: a no-op
  ASSERT_TRUE(primary.WaitAcked(SequenceNumber(2), In(absl::Seconds(10))).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      secondary.Receive(In(absl::Milliseconds(20))).status()));
}

TEST(ChannelTest, BothDirectionsCarryData) {
  absl::StatusOr<ChannelPair> c = OpenChannelPair();
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  ASSERT_TRUE(secondary.Send(Payload(100, 9)).ok());
  absl::StatusOr<ReceivedData> r = primary.Receive(In(absl::Seconds(10)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload, Payload(100, 9));
}

TEST(ChannelTest, HeartbeatsCarryTheCountersAndUpdateLastHeard) {
  absl::StatusOr<ChannelPair> c = OpenChannelPair();
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  const int64_t heard = secondary.last_heard_ns();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(primary.Send(Payload(10, i)).ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(secondary.Receive(In(absl::Seconds(10))).ok());
  }
  ASSERT_TRUE(secondary.Ack(SequenceNumber(3)).ok());
  ASSERT_TRUE(primary.WaitAcked(SequenceNumber(3), In(absl::Seconds(10))).ok());
  // The primary's heartbeats after the sends say 3 sent; the secondary's
  // after its ACK say 3 acknowledged.
  EXPECT_TRUE(Eventually([&] {
    auto hb = secondary.last_heartbeat();
    return hb.has_value() && hb->heartbeat.sent == SequenceNumber(3);
  }));
  EXPECT_TRUE(Eventually([&] {
    auto hb = primary.last_heartbeat();
    return hb.has_value() && hb->heartbeat.acked == SequenceNumber(3);
  }));
  EXPECT_GT(secondary.last_heard_ns(), heard);
  EXPECT_GE(secondary.stats().heartbeats_received, 1u);
  EXPECT_GE(primary.stats().heartbeats_sent, 1u);
}

// The secondary does not acknowledge: the primary's Send blocks once the
// buffer is full, the stall is counted, and it resumes on acknowledgement.
void CheckBackpressure(
    const std::function<void(ChannelOptions&, ChannelOptions&)>& limit) {
  metrics::Registry registry;
  absl::StatusOr<ChannelPair> c =
      OpenChannelPair([&](ChannelOptions& po, ChannelOptions& so) {
        po.metrics = &registry;
        so.metrics = &registry;
        limit(po, so);
      });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  constexpr int kRecords = 10;
  std::atomic<int> sent{0};
  TestThread sender(
      [&] {
        for (int i = 1; i <= kRecords; ++i) {
          ASSERT_TRUE(primary.Send(Payload(4096, i)).ok());
          sent = i;
        }
      },
      [&] { primary.Close("test failed"); });
  // 4 records of 4 KiB fill 16 KiB; the 5th waits.
  ASSERT_TRUE(
      Eventually([&] { return primary.stats().backpressure_stalls >= 1; }));
  EXPECT_EQ(sent.load(), 4);
  EXPECT_EQ(primary.last_sent(), SequenceNumber(4));
  EXPECT_EQ(primary.stats().unacked_bytes, 4u * 4096);
  for (int i = 1; i <= kRecords; ++i) {
    absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(secondary.Ack(r->sequence).ok());
  }
  sender.Join();
  EXPECT_EQ(sent.load(), kRecords);
  const ChannelStats st = primary.stats();
  EXPECT_GE(st.backpressure_stalls, 1u);
  EXPECT_GT(st.backpressure_stall_time, absl::ZeroDuration());
  const std::string text = registry.ExportPrometheus();
  EXPECT_THAT(text, HasSubstr("ftvm_logchannel_backpressure_stalls_total{"
                              "channel=\"p\"} "));
  EXPECT_THAT(text, Not(HasSubstr("ftvm_logchannel_backpressure_stalls_total{"
                                  "channel=\"p\"} 0\n")));
}

TEST(ChannelTest, BackpressureFromTheSendBuffer) {
  CheckBackpressure(
      [](ChannelOptions& p, ChannelOptions&) { p.send_buffer_bytes = 16384; });
}

TEST(ChannelTest, BackpressureFromThePeersReceiveWindow) {
  CheckBackpressure([](ChannelOptions&, ChannelOptions& s) {
    s.receive_window_bytes = 16384;
  });
}

TEST(ChannelTest, AckOnReceiptAcknowledgesWithoutTheOwner) {
  absl::StatusOr<ChannelPair> c = OpenChannelPair(
      [](ChannelOptions&, ChannelOptions& so) { so.ack_on_receipt = true; });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  for (int i = 1; i <= 50; ++i) ASSERT_TRUE(primary.Send(Payload(300, i)).ok());
  // Nobody on the secondary's side calls Receive or Ack.
  ASSERT_TRUE(
      primary.WaitAcked(SequenceNumber(50), In(absl::Seconds(10))).ok());
  for (int i = 1; i <= 50; ++i) {
    absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->payload, Payload(300, i));
  }
}

TEST(ChannelTest, AckOnReceiptWaitsForReceiveBeyondTheWindow) {
  absl::StatusOr<ChannelPair> c =
      OpenChannelPair([](ChannelOptions&, ChannelOptions& so) {
        so.ack_on_receipt = true;
        so.receive_window_bytes = 16384;
      });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  std::atomic<int> sent{0};
  TestThread sender(
      [&] {
        for (int i = 1; i <= 5; ++i) {
          ASSERT_TRUE(primary.Send(Payload(6000, i)).ok());
          sent = i;
        }
      },
      [&] { primary.Close("test failed"); });
  // Nobody Receives: once more than 16384 bytes wait (three records), the
  // secondary acknowledges nothing more, and the sender, with two records
  // unacknowledged, waits for room. Which records were acknowledged first
  // depends on how they were read; that nothing moves any more does not.
  ASSERT_TRUE(
      Eventually([&] { return primary.stats().backpressure_stalls >= 1; }));
  absl::SleepFor(absl::Milliseconds(200));
  const SequenceNumber acked = primary.acked();
  const int were_sent = sent.load();
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(primary.acked(), acked);
  EXPECT_EQ(sent.load(), were_sent);
  EXPECT_GE(acked, SequenceNumber(1));
  EXPECT_LT(were_sent, 5);
  // Taking records frees the window: everything goes through.
  for (int i = 1; i <= 5; ++i) {
    absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->payload, Payload(6000, i));
  }
  sender.Join();
  ASSERT_TRUE(primary.WaitAcked(SequenceNumber(5), In(absl::Seconds(10))).ok());
}

// Through a small pipe, records are written partly by their sender (while
// the pipe has room) and partly by the writer thread (the rest of a record
// the pipe could not take): all arrive whole and in order.
TEST(ChannelTest, InlineAndHandedOverWritesKeepTheOrder) {
  absl::StatusOr<ChannelPair> c = OpenChannelPair(
      [](ChannelOptions&, ChannelOptions& so) { so.ack_on_receipt = true; },
      /*pipe_bytes=*/1024);
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  constexpr int kRecords = 500;
  TestThread sender(
      [&] {
        for (int i = 1; i <= kRecords; ++i) {
          ASSERT_TRUE(primary.Send(Payload((i * 53) % 3000 + 1, i)).ok());
        }
      },
      [&] { primary.Close("test failed"); });
  for (int i = 1; i <= kRecords; ++i) {
    absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->sequence.value(), uint64_t(i));
    ASSERT_EQ(r->payload, Payload((i * 53) % 3000 + 1, i)) << "record " << i;
  }
  sender.Join();
  ASSERT_TRUE(
      primary.WaitAcked(SequenceNumber(kRecords), In(absl::Seconds(10))).ok());
}

TEST(ChannelTest, OneOversizedRecordStillFitsAnEmptyBuffer) {
  absl::StatusOr<ChannelPair> c = OpenChannelPair(
      [](ChannelOptions& po, ChannelOptions&) { po.send_buffer_bytes = 100; });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  ASSERT_TRUE(primary.Send(Payload(1000, 1)).ok());
  absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->payload.size(), 1000u);
  EXPECT_TRUE(absl::IsInvalidArgument(
      primary.Send(std::vector<uint8_t>(kMaxDataBytes + 1)).status()));
}

TEST(ChannelTest, MetricsAreExported) {
  metrics::Registry registry;
  absl::StatusOr<ChannelPair> c =
      OpenChannelPair([&](ChannelOptions& po, ChannelOptions& so) {
        po.metrics = &registry;
        so.metrics = &registry;
      });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(primary.Send(Payload(100, i)).ok());
  for (int i = 1; i <= 5; ++i) {
    absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(secondary.Ack(r->sequence).ok());
  }
  ASSERT_TRUE(primary.WaitAcked(SequenceNumber(5), In(absl::Seconds(10))).ok());
  const std::string text = registry.ExportPrometheus();
  EXPECT_THAT(text, HasSubstr("ftvm_logchannel_data_records_sent_total{"
                              "channel=\"p\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("ftvm_logchannel_data_bytes_received_total{"
                              "channel=\"s\"} 500\n"));
  EXPECT_THAT(text,
              HasSubstr("ftvm_logchannel_unacked_bytes{channel=\"p\"} 0\n"));
  EXPECT_THAT(text,
              HasSubstr("# TYPE ftvm_logchannel_ack_rtt_seconds histogram"));
  EXPECT_THAT(text,
              Not(HasSubstr(
                  "ftvm_logchannel_ack_rtt_seconds_count{channel=\"p\"} 0\n")));
}

TEST(ChannelTest, CloseIsSeenByThePeerAfterItsData) {
  absl::StatusOr<ChannelPair> c = OpenChannelPair();
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(primary.Send(Payload(50, i)).ok());
  primary.Close("maintenance");
  for (int i = 1; i <= 3; ++i) {
    absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->sequence.value(), uint64_t(i));
  }
  absl::StatusOr<ReceivedData> end = secondary.Receive(In(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsCancelled(end.status())) << end.status();
  EXPECT_THAT(end.status().message(),
              HasSubstr("closed the channel: maintenance"));
  EXPECT_TRUE(absl::IsCancelled(primary.status()));
  absl::StatusOr<SequenceNumber> after = primary.Send(Payload(1, 1));
  EXPECT_TRUE(absl::IsCancelled(after.status())) << after.status();
  EXPECT_TRUE(absl::IsCancelled(secondary.Send(Payload(1, 1)).status()));
}

TEST(ChannelTest, CloseWakesBlockedCallers) {
  absl::StatusOr<ChannelPair> c = OpenChannelPair(
      [](ChannelOptions& po, ChannelOptions&) { po.send_buffer_bytes = 4096; });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  ASSERT_TRUE(primary.Send(Payload(4096, 1)).ok());
  absl::Status send_status, receive_status;
  auto close = [&] { primary.Close("test failed"); };
  TestThread blocked_send(
      [&] { send_status = primary.Send(Payload(4096, 2)).status(); }, close);
  TestThread blocked_receive(
      [&] {
        (void)secondary.Receive(In(absl::Seconds(10)));  // record 1
        receive_status = secondary.Receive(absl::InfiniteFuture()).status();
      },
      close);
  ASSERT_TRUE(
      Eventually([&] { return primary.stats().backpressure_stalls == 1; }));
  primary.Close("shutting down");
  blocked_send.Join();
  blocked_receive.Join();
  EXPECT_TRUE(absl::IsCancelled(send_status)) << send_status;
  EXPECT_TRUE(absl::IsCancelled(receive_status)) << receive_status;
}

TEST(ChannelTest, CloseDoesNotHangOnAPeerThatStopsReading) {
  ChannelOptions o = Options(Role::kPrimary);
  o.close_timeout = absl::Milliseconds(100);
  auto [c, peer] =
      RawPeer::Connect(o, /*peer_versions=*/{}, /*pipe_bytes=*/4096);
  ASSERT_TRUE(c.ok() && peer.ok()) << c.status() << peer.status();
  // The peer never reads: the writer blocks on the full pipe.
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE((*c)->Send(Payload(4000, i)).ok());
  (*c)->Close("giving up");
  EXPECT_TRUE(absl::IsCancelled((*c)->status()));
}

}  // namespace
}  // namespace ft::logchannel
