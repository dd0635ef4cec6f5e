// Tests for logchannel/tcp_transport.h on loopback: the FT address binding
// (refusing an address that is not on this host, wildcards and names),
// deadlines and shutdown, and a whole Channel over TCP.
#include "logchannel/tcp_transport.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <string>
#include <thread>
#include <vector>

#include "common/check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "logchannel/channel.h"
#include "tests/unit/logchannel/channel_test_util.h"

namespace ft::logchannel {
namespace {

using ::ft::logchannel::testing::In;
using ::ft::logchannel::testing::Options;
using ::ft::logchannel::testing::Payload;
using ::ft::logchannel::testing::RawPeer;
using ::ft::logchannel::testing::TestThread;
using ::testing::HasSubstr;

// Whether `address` (a literal) is configured on an interface here.
bool IsLocalAddress(const std::string& address) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET) {
      ::inet_ntop(AF_INET,
                  &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf,
                  sizeof(buf));
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      ::inet_ntop(AF_INET6,
                  &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, buf,
                  sizeof(buf));
    }
    found = address == buf;
  }
  ::freeifaddrs(list);
  return found;
}

// An address of TEST-NET-3 (RFC 5737) that this host does not have.
std::string ForeignAddress() {
  for (int last = 254; last > 1; --last) {
    const std::string a = "203.0.113." + std::to_string(last);
    if (!IsLocalAddress(a)) return a;
  }
  return "203.0.113.1";
}

std::unique_ptr<TcpListener> Listen(const std::string& address = "127.0.0.1") {
  absl::StatusOr<std::unique_ptr<TcpListener>> l =
      TcpListener::Listen({.address = address, .port = 0});
  FT_CHECK_OK(l);
  return std::move(*l);
}

TcpConnectOptions ConnectTo(const TcpListener& l,
                            const std::string& address = "127.0.0.1") {
  return {.local_address = address,
          .remote_address = address,
          .remote_port = l.port()};
}

// A connected pair: (client, server).
std::pair<std::unique_ptr<Transport>, std::unique_ptr<Transport>> Connected(
    const std::string& address = "127.0.0.1") {
  std::unique_ptr<TcpListener> l = Listen(address);
  absl::StatusOr<std::unique_ptr<Transport>> c =
      TcpConnector(ConnectTo(*l, address)).Connect(In(absl::Seconds(10)));
  FT_CHECK_OK(c);
  absl::StatusOr<std::unique_ptr<Transport>> s =
      l->Accept(In(absl::Seconds(10)));
  FT_CHECK_OK(s);
  return {std::move(*c), std::move(*s)};
}

TEST(TcpTransportTest, RoundTripBothWays) {
  auto c_s = Connected();
  auto& c = c_s.first;
  auto& s = c_s.second;
  EXPECT_THAT(c->Describe(), HasSubstr("tcp 127.0.0.1:"));
  const std::vector<uint8_t> hello = Payload(100000, 3);
  TestThread writer([&] { ASSERT_TRUE(c->Write(hello).ok()); },
                    [&] { c->Shutdown(); });
  std::vector<uint8_t> got(hello.size());
  ASSERT_TRUE(ReadExact(*s, got, In(absl::Seconds(10))).ok());
  writer.Join();
  EXPECT_EQ(got, hello);
  const std::vector<uint8_t> back = {1, 2, 3};
  ASSERT_TRUE(s->Write(back).ok());
  std::vector<uint8_t> got_back(3);
  ASSERT_TRUE(ReadExact(*c, got_back, In(absl::Seconds(10))).ok());
  EXPECT_EQ(got_back, back);
  // The peer's end of stream.
  s->ShutdownWrite();
  uint8_t b;
  absl::StatusOr<size_t> n = c->Read({&b, 1}, In(absl::Seconds(10)));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST(TcpTransportTest, TryWriteTakesWhatFitsWithoutBlocking) {
  auto c_s = Connected();
  auto& c = c_s.first;
  auto& s = c_s.second;
  // The peer does not read: the socket buffers fill, and TryWrite then
  // takes less than offered (or nothing) instead of blocking.
  const std::vector<uint8_t> chunk = Payload(1 << 20, 9);
  std::vector<uint8_t> written;
  bool short_write = false;
  for (int i = 0; i < 256 && !short_write; ++i) {
    absl::StatusOr<size_t> n = c->TryWrite(chunk);
    ASSERT_TRUE(n.ok()) << n.status();
    written.insert(written.end(), chunk.begin(), chunk.begin() + *n);
    short_write = *n < chunk.size();
  }
  ASSERT_TRUE(short_write) << "256 MiB went into the socket without a stop";
  // What it took arrives, in order.
  c->ShutdownWrite();
  std::vector<uint8_t> got(written.size());
  ASSERT_TRUE(ReadExact(*s, got, In(absl::Seconds(30))).ok());
  EXPECT_EQ(got, written);
  // After a Shutdown, an error.
  c->Shutdown();
  EXPECT_TRUE(absl::IsCancelled(c->TryWrite(chunk).status()));
}

TEST(TcpTransportTest, Ipv6Loopback) {
  if (!IsLocalAddress("::1")) GTEST_SKIP() << "no ::1 on this host";
  auto c_s = Connected("::1");
  auto& c = c_s.first;
  auto& s = c_s.second;
  EXPECT_THAT(c->Describe(), HasSubstr("[::1]:"));
  const std::vector<uint8_t> data = {9, 8, 7};
  ASSERT_TRUE(c->Write(data).ok());
  std::vector<uint8_t> got(3);
  ASSERT_TRUE(ReadExact(*s, got, In(absl::Seconds(10))).ok());
  EXPECT_EQ(got, data);
}

TEST(TcpTransportTest, LocalAddressNotOnThisHostIsRefused) {
  const std::string foreign = ForeignAddress();
  std::unique_ptr<TcpListener> l = Listen();
  absl::StatusOr<std::unique_ptr<TcpTransport>> c =
      TcpTransport::Connect({.local_address = foreign,
                             .remote_address = "127.0.0.1",
                             .remote_port = l->port()},
                            In(absl::Seconds(5)));
  EXPECT_TRUE(absl::IsFailedPrecondition(c.status())) << c.status();
  EXPECT_THAT(c.status().message(),
              HasSubstr("the FT address " + foreign +
                        ":0 is not an address of this host"));
  EXPECT_THAT(c.status().message(), HasSubstr("never falls back"));
  // Nothing reached the listener.
  EXPECT_TRUE(
      absl::IsDeadlineExceeded(l->Accept(In(absl::Milliseconds(50))).status()));

  absl::StatusOr<std::unique_ptr<TcpListener>> bad =
      TcpListener::Listen({.address = foreign});
  EXPECT_TRUE(absl::IsFailedPrecondition(bad.status())) << bad.status();
  EXPECT_THAT(bad.status().message(), HasSubstr("not an address of this host"));
}

TEST(TcpTransportTest, WildcardsNamesAndMissingAddressesAreRefused) {
  for (const std::string a : {"0.0.0.0", "::"}) {
    absl::Status s = TcpListener::Listen({.address = a}).status();
    EXPECT_TRUE(absl::IsFailedPrecondition(s)) << a << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr("is a wildcard"));
  }
  absl::Status s = TcpTransport::Connect({.local_address = "0.0.0.0",
                                          .remote_address = "127.0.0.1",
                                          .remote_port = 1},
                                         In(absl::Seconds(1)))
                       .status();
  EXPECT_THAT(s.message(), HasSubstr("is a wildcard"));
  s = TcpTransport::Connect({.local_address = "localhost",
                             .remote_address = "127.0.0.1",
                             .remote_port = 1},
                            In(absl::Seconds(1)))
          .status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("not an IPv4 or IPv6 address literal"));
  s = TcpTransport::Connect({.remote_address = "127.0.0.1", .remote_port = 1},
                            In(absl::Seconds(1)))
          .status();
  EXPECT_THAT(s.message(), HasSubstr("no local FT address configured"));
  s = TcpTransport::Connect({.local_address = "127.0.0.1",
                             .remote_address = "::1",
                             .remote_port = 1},
                            In(absl::Seconds(1)))
          .status();
  EXPECT_THAT(s.message(), HasSubstr("not of the same IP version"));
}

TEST(TcpTransportTest, UnknownInterfaceIsRefused) {
  absl::Status s =
      TcpListener::Listen({.address = "127.0.0.1", .interface = "nosuchft0"})
          .status();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("nosuchft0"));
}

TEST(TcpTransportTest, ConnectionRefused) {
  uint16_t port;
  {
    std::unique_ptr<TcpListener> l = Listen();
    port = l->port();
  }
  absl::Status s = TcpTransport::Connect({.local_address = "127.0.0.1",
                                          .remote_address = "127.0.0.1",
                                          .remote_port = port},
                                         In(absl::Seconds(5)))
                       .status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("connection refused"));
}

TEST(TcpTransportTest, DeadlinesAndShutdown) {
  std::unique_ptr<TcpListener> l = Listen();
  EXPECT_TRUE(
      absl::IsDeadlineExceeded(l->Accept(In(absl::Milliseconds(30))).status()));
  auto c_s = Connected();
  auto& c = c_s.first;  // the server end stays open: no end of stream
  uint8_t b;
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      c->Read({&b, 1}, In(absl::Milliseconds(30))).status()));
  absl::Status blocked;
  std::thread reader([&] {
    blocked = c->Read({&b, 1}, absl::InfiniteFuture()).status();
  });
  absl::SleepFor(absl::Milliseconds(20));  // lets it block (either way works)
  c->Shutdown();
  reader.join();
  EXPECT_TRUE(absl::IsCancelled(blocked)) << blocked;
  EXPECT_TRUE(absl::IsCancelled(c->Write({&b, 1})));
}

TEST(TcpTransportTest, ChannelOverTcp) {
  std::unique_ptr<TcpListener> l = Listen();
  absl::StatusOr<std::unique_ptr<Channel>> secondary =
      absl::UnknownError("not run");
  std::thread t([&] {
    absl::StatusOr<std::unique_ptr<Transport>> s =
        l->Accept(In(absl::Seconds(10)));
    if (!s.ok()) {
      secondary = s.status();
      return;
    }
    secondary = Channel::Open(std::move(*s), Options(Role::kSecondary));
  });
  absl::StatusOr<std::unique_ptr<Transport>> c =
      TcpConnector(ConnectTo(*l)).Connect(In(absl::Seconds(10)));
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<std::unique_ptr<Channel>> primary =
      Channel::Open(std::move(*c), Options(Role::kPrimary));
  t.join();
  ASSERT_TRUE(primary.ok()) << primary.status();
  ASSERT_TRUE(secondary.ok()) << secondary.status();

  constexpr int kRecords = 500;
  TestThread sender(
      [&] {
        for (int i = 1; i <= kRecords; ++i) {
          // One large record among small ones.
          const size_t size = i == 250 ? (size_t{1} << 20) : (i * 53) % 3000;
          ASSERT_TRUE((*primary)->Send(Payload(size, i)).ok());
        }
      },
      [&] { (*primary)->Close("test failed"); });
  for (int i = 1; i <= kRecords; ++i) {
    absl::StatusOr<ReceivedData> r =
        (*secondary)->Receive(In(absl::Seconds(10)));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->sequence.value(), uint64_t(i));
    const size_t size = i == 250 ? (size_t{1} << 20) : (i * 53) % 3000;
    ASSERT_EQ(r->payload, Payload(size, i));
    ASSERT_TRUE((*secondary)->Ack(r->sequence).ok());
  }
  sender.Join();
  ASSERT_TRUE((*primary)
                  ->WaitAcked(SequenceNumber(kRecords), In(absl::Seconds(10)))
                  .ok());
  // The secondary is destroyed: the primary learns it, and why.
  (*secondary).reset();
  ASSERT_TRUE(testing::Eventually([&] { return !(*primary)->status().ok(); }));
  EXPECT_THAT((*primary)->status().message(),
              HasSubstr("closed the channel: the channel was destroyed"));
}

TEST(TcpTransportTest, PeerDisconnectingMidRecordOverTcp) {
  std::unique_ptr<TcpListener> l = Listen();
  absl::StatusOr<RawPeer> peer = absl::UnknownError("not run");
  std::thread t([&] {
    absl::StatusOr<std::unique_ptr<Transport>> s =
        l->Accept(In(absl::Seconds(10)));
    if (!s.ok()) {
      peer = s.status();
      return;
    }
    peer =
        RawPeer::Handshake(std::move(*s), testing::HsOptions(Role::kPrimary));
  });
  absl::StatusOr<std::unique_ptr<Transport>> c =
      TcpConnector(ConnectTo(*l)).Connect(In(absl::Seconds(10)));
  ASSERT_TRUE(c.ok());
  absl::StatusOr<std::unique_ptr<Channel>> channel =
      Channel::Open(std::move(*c), Options(Role::kSecondary));
  t.join();
  ASSERT_TRUE(channel.ok() && peer.ok()) << channel.status() << peer.status();
  // Half a record's header, then the connection closes.
  const std::vector<uint8_t> half = {'F', 'C', 3, 3, 100, 0, 0};
  ASSERT_TRUE(peer->SendRaw(half).ok());
  peer->transport().Shutdown();
  absl::StatusOr<ReceivedData> r = (*channel)->Receive(In(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              HasSubstr("disconnected in the middle of a record"));
  EXPECT_THAT(r.status().message(), HasSubstr("7 of 16 bytes"));
}

}  // namespace
}  // namespace ft::logchannel
