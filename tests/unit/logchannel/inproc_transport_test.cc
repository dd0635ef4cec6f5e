// Tests for logchannel/inproc_transport.h: order, the bounded buffer, the
// end-of-stream and shutdown semantics (as TCP's), and the listener.
#include "logchannel/inproc_transport.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/logchannel/channel_test_util.h"

namespace ft::logchannel {
namespace {

using ::ft::logchannel::testing::In;
using ::testing::HasSubstr;

TEST(InProcTransportTest, BytesArriveInOrderThroughASmallBuffer) {
  auto a_b = MakeInProcPair({.capacity_bytes = 7, .name = "t"});
  auto& a = a_b.first;
  auto& b = a_b.second;
  EXPECT_EQ(a->Describe(), "inproc t/a");
  std::vector<uint8_t> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i * 3);
  testing::TestThread writer([&] { ASSERT_TRUE(a->Write(data).ok()); },
                             [&] { a->Shutdown(); });
  std::vector<uint8_t> got(data.size());
  ASSERT_TRUE(ReadExact(*b, got, In(absl::Seconds(10))).ok());
  writer.Join();
  EXPECT_EQ(got, data);
}

TEST(InProcTransportTest, WriterBlocksWhileTheBufferIsFull) {
  auto a_b = MakeInProcPair({.capacity_bytes = 4});
  auto& a = a_b.first;
  auto& b = a_b.second;
  std::atomic<bool> done{false};
  testing::TestThread writer(
      [&] {
        const std::vector<uint8_t> eight(8, 1);
        ASSERT_TRUE(a->Write(eight).ok());
        done = true;
      },
      [&] { a->Shutdown(); });
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(done.load());  // 4 bytes cannot be written until read
  std::vector<uint8_t> got(8);
  ASSERT_TRUE(ReadExact(*b, got, In(absl::Seconds(10))).ok());
  writer.Join();
  EXPECT_TRUE(done.load());
}

TEST(InProcTransportTest, EndOfStreamAndShutdown) {
  auto a_b = MakeInProcPair();
  auto& a = a_b.first;
  auto& b = a_b.second;
  const std::vector<uint8_t> data = {1, 2};
  ASSERT_TRUE(a->Write(data).ok());
  a->ShutdownWrite();
  uint8_t buf[4];
  // What was written, then the end.
  EXPECT_EQ(*b->Read(buf, In(absl::Seconds(1))), 2u);
  EXPECT_EQ(*b->Read(buf, In(absl::Seconds(1))), 0u);
  EXPECT_TRUE(absl::IsCancelled(a->Write(data)));
  // b can still write to a.
  ASSERT_TRUE(b->Write(data).ok());
  EXPECT_EQ(*a->Read(buf, In(absl::Seconds(1))), 2u);
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      a->Read(buf, In(absl::Milliseconds(10))).status()));
  // Shutdown wakes a blocked reader, and the peer's writes fail.
  absl::Status blocked;
  std::thread reader(
      [&] { blocked = a->Read(buf, absl::InfiniteFuture()).status(); });
  a->Shutdown();
  reader.join();
  EXPECT_TRUE(absl::IsCancelled(blocked)) << blocked;
  absl::Status peer_write = b->Write(data);
  EXPECT_TRUE(absl::IsUnavailable(peer_write)) << peer_write;
  EXPECT_THAT(peer_write.message(), HasSubstr("peer closed"));
}

TEST(InProcTransportTest, DestroyingAnEndIsAShutdown) {
  auto a_b = MakeInProcPair();
  auto& a = a_b.first;
  auto& b = a_b.second;
  a.reset();
  uint8_t buf[1];
  EXPECT_EQ(*b->Read(buf, In(absl::Seconds(1))), 0u);
  EXPECT_TRUE(absl::IsUnavailable(b->Write({buf, 1})));
}

TEST(InProcListenerTest, ConnectorsReachTheListener) {
  auto listener = std::make_unique<InProcListener>(InProcOptions{.name = "l"});
  std::unique_ptr<Connector> connector = listener->MakeConnector();
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      listener->Accept(In(absl::Milliseconds(10))).status()));
  absl::StatusOr<std::unique_ptr<Transport>> c =
      connector->Connect(In(absl::Seconds(1)));
  ASSERT_TRUE(c.ok());
  absl::StatusOr<std::unique_ptr<Transport>> s =
      listener->Accept(In(absl::Seconds(1)));
  ASSERT_TRUE(s.ok());
  const std::vector<uint8_t> data = {5};
  ASSERT_TRUE((*c)->Write(data).ok());
  uint8_t buf[1];
  EXPECT_EQ(*(*s)->Read(buf, In(absl::Seconds(1))), 1u);
  listener.reset();
  absl::Status refused = connector->Connect(In(absl::Seconds(1))).status();
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
}

}  // namespace
}  // namespace ft::logchannel
