// Tests for logchannel/channel.h against its peer: the handshake (secret,
// versions, encryption), heartbeat progress across versions, and a peer
// that misbehaves (tampering, garbage, disconnecting mid-record, records out
// of sequence, acknowledging unsent data, ignoring the window, heartbeats of
// the wrong length or going backwards), each ending the channel with a clear
// error on both APIs and without hanging.
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
using ::ft::logchannel::testing::ForEachRecord;
using ::ft::logchannel::testing::In;
using ::ft::logchannel::testing::InterceptTransport;
using ::ft::logchannel::testing::kPipeBytes;
using ::ft::logchannel::testing::OpenChannelPair;
using ::ft::logchannel::testing::OpenInProc;
using ::ft::logchannel::testing::Options;
using ::ft::logchannel::testing::Payload;
using ::ft::logchannel::testing::RawPeer;
using ::ft::logchannel::testing::TestThread;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ChannelTest, WrongSecretFailsOpenOnBothSides) {
  auto [p, s] = OpenInProc([](ChannelOptions&, ChannelOptions& so) {
    so.shared_secret = "a different secret, long enough";
  });
  EXPECT_TRUE(absl::IsUnauthenticated(p.status())) << p.status();
  EXPECT_TRUE(absl::IsUnauthenticated(s.status())) << s.status();
  EXPECT_THAT(p.status().message(), HasSubstr("wrong shared secret"));
}

TEST(ChannelTest, WrongVersionFailsOpen) {
  // A peer that speaks only a future version.
  auto c_peer = RawPeer::Connect(Options(Role::kPrimary), {7});
  auto& c = c_peer.first;
  auto& peer = c_peer.second;
  EXPECT_TRUE(absl::IsFailedPrecondition(c.status())) << c.status();
  EXPECT_THAT(c.status().message(),
              HasSubstr("no common protocol version: we accept 4, 3, 2; the "
                        "peer accepts 7"));
  EXPECT_THAT(peer.status().message(), HasSubstr("no common protocol version"));
}

TEST(ChannelTest, OnlyVersionsThisBuildSpeaksAreOffered) {
  for (uint16_t v : {1, 5}) {
    auto a_b = MakeInProcPair();
    ChannelOptions o = Options(Role::kPrimary);
    o.versions = {kProtocolVersion, v};
    absl::Status s = Channel::Open(std::move(a_b.first), o).status();
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_THAT(s.message(),
                HasSubstr(absl::StrCat("protocol version ", v,
                                       " is not supported (this build "
                                       "speaks 2 to 4)")));
  }
}

// Version 2 peers (only 2 offered on one side or both) still work; their
// heartbeats carry no progress, so the peer reads 0 whatever ours says.
TEST(ChannelTest, Version2PeersStillWork) {
  for (const bool both : {true, false}) {
    SCOPED_TRACE(both ? "both offer 2" : "the secondary offers 2");
    auto p_s = OpenInProc([both](ChannelOptions& po, ChannelOptions& so) {
      if (both) po.versions = {2};
      so.versions = {2};
      po.heartbeat_progress = [] { return uint64_t{77}; };
      so.heartbeat_progress = [] { return uint64_t{78}; };
    });
    auto& p = p_s.first;
    auto& s = p_s.second;
    ASSERT_TRUE(p.ok() && s.ok()) << p.status() << s.status();
    EXPECT_EQ((*p)->version(), 2);
    EXPECT_EQ((*s)->version(), 2);
    for (int i = 1; i <= 3; ++i) {
      ASSERT_TRUE((*p)->Send(Payload(100, i)).ok());
    }
    for (int i = 1; i <= 3; ++i) {
      absl::StatusOr<ReceivedData> r = (*s)->Receive(In(absl::Seconds(10)));
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->payload, Payload(100, i));
      ASSERT_TRUE((*s)->Ack(r->sequence).ok());
    }
    ASSERT_TRUE((*p)->WaitAcked(SequenceNumber(3), In(absl::Seconds(10))).ok());
    // Heartbeats after the DATA and the ACK arrive, with progress 0.
    ASSERT_TRUE(Eventually([&] {
      auto hb = (*s)->last_heartbeat();
      return hb.has_value() && hb->heartbeat.sent == SequenceNumber(3);
    }));
    ASSERT_TRUE(Eventually([&] {
      auto hb = (*p)->last_heartbeat();
      return hb.has_value() && hb->heartbeat.acked == SequenceNumber(3);
    }));
    EXPECT_EQ((*s)->last_heartbeat()->heartbeat.progress, 0u);
    EXPECT_EQ((*p)->last_heartbeat()->heartbeat.progress, 0u);
    EXPECT_TRUE((*p)->status().ok()) << (*p)->status();
    EXPECT_TRUE((*s)->status().ok()) << (*s)->status();
  }
}

// A version 3 peer (the previous build) and this one agree on 3, whose
// records are the current ones: data, acknowledgements and progress flow.
TEST(ChannelTest, Version3PeersStillWork) {
  auto p_s = OpenInProc([](ChannelOptions& po, ChannelOptions&) {
    po.versions = {3, 2};
    po.heartbeat_progress = [] { return uint64_t{77}; };
  });
  auto& p = p_s.first;
  auto& s = p_s.second;
  ASSERT_TRUE(p.ok() && s.ok()) << p.status() << s.status();
  EXPECT_EQ((*p)->version(), 3);
  EXPECT_EQ((*s)->version(), 3);
  ASSERT_TRUE((*p)->Send(Payload(100, 1)).ok());
  absl::StatusOr<ReceivedData> r = (*s)->Receive(In(absl::Seconds(10)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->payload, Payload(100, 1));
  ASSERT_TRUE((*s)->Ack(r->sequence).ok());
  EXPECT_TRUE((*p)->WaitAcked(r->sequence, In(absl::Seconds(10))).ok());
  EXPECT_TRUE(Eventually([&] {
    std::optional<PeerHeartbeat> hb = (*s)->last_heartbeat();
    return hb.has_value() && hb->heartbeat.progress == 77u;
  }));
}

// heartbeat_progress reaches the peer from version 3 on: each heartbeat carries
// what it returned then; a side without one sends 0.
TEST(ChannelTest, HeartbeatsCarryTheSendersProgress) {
  std::atomic<uint64_t> progress{5};
  auto p_s = OpenInProc([&](ChannelOptions& po, ChannelOptions&) {
    po.heartbeat_progress = [&progress] { return progress.load(); };
  });
  auto& p = p_s.first;
  auto& s = p_s.second;
  ASSERT_TRUE(p.ok() && s.ok()) << p.status() << s.status();
  ASSERT_EQ((*p)->version(), kProtocolVersion);
  auto peer_progress = [&](Channel& c) -> std::optional<uint64_t> {
    std::optional<PeerHeartbeat> hb = c.last_heartbeat();
    if (!hb.has_value()) return std::nullopt;
    return hb->heartbeat.progress;
  };
  EXPECT_TRUE(Eventually([&] { return peer_progress(**s) == 5u; }));
  progress = 123456789012;
  EXPECT_TRUE(Eventually([&] { return peer_progress(**s) == 123456789012u; }));
  EXPECT_TRUE(Eventually([&] { return peer_progress(**p).has_value(); }));
  EXPECT_EQ(peer_progress(**p), 0u);
  EXPECT_TRUE((*s)->status().ok()) << (*s)->status();
}

// A peer whose current-version heartbeats are refused: the channel ends with
// DataLoss naming it, and the peer hears why in a CLOSE.
void CheckRefusedHeartbeats(const std::vector<std::vector<uint8_t>>& bodies,
                            const std::string& error) {
  auto c_peer = RawPeer::Connect(Options(Role::kSecondary));
  auto& c = c_peer.first;
  auto& peer = c_peer.second;
  ASSERT_TRUE(c.ok() && peer.ok()) << c.status() << peer.status();
  ASSERT_EQ(peer->version(), kProtocolVersion);
  for (const std::vector<uint8_t>& body : bodies) {
    ASSERT_TRUE(peer->Send(RecordType::kHeartbeat, 0, body).ok());
  }
  absl::StatusOr<ReceivedData> r = (*c)->Receive(In(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              AllOf(HasSubstr("refused a record from the peer"),
                    HasSubstr("(HEARTBEAT)"), HasSubstr(error)));
  EXPECT_EQ((*c)->status(), r.status());
  EXPECT_EQ((*c)->Send(Payload(1, 1)).status(), r.status());
  absl::StatusOr<SessionMessage> m =
      peer->NextNonHeartbeat(In(absl::Seconds(10)));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(std::holds_alternative<CloseNotice>(*m));
  EXPECT_EQ(std::get<CloseNotice>(*m).code, absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::get<CloseNotice>(*m).reason, HasSubstr(error));
}

TEST(ChannelTest, HeartbeatProgressGoingBackwardsEndsTheChannel) {
  auto body = [](int64_t time_ns, uint64_t progress) {
    return EncodeHeartbeat({.sender_time_ns = time_ns, .progress = progress},
                           kProtocolVersion);
  };
  CheckRefusedHeartbeats({body(1, 10), body(2, 10), body(3, 9)},
                         "HEARTBEAT progress went backwards from 10 to 9");
}

TEST(ChannelTest, AHeartbeatOfTheWrongLengthEndsTheChannel) {
  // Version 2's body, and one a byte short (a longer one already fails
  // the header's bound).
  CheckRefusedHeartbeats(
      {EncodeHeartbeat({.sender_time_ns = 1}, kOldestProtocolVersion)},
      "HEARTBEAT body of 24 bytes (must be 32 in protocol version 4)");
  CheckRefusedHeartbeats(
      {std::vector<uint8_t>(kHeartbeatBytes - 1)},
      "HEARTBEAT body of 31 bytes (must be 32 in protocol version 4)");
}

TEST(ChannelTest, EncryptionMismatchFailsOpen) {
  auto [p, s] = OpenInProc([](ChannelOptions&, ChannelOptions& so) {
    so.security = Security::kPlaintext;
  });
  EXPECT_THAT(p.status().message(),
              HasSubstr("the peer wants plaintext, we require encryption"));
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
}

// Records what the primary writes, to look at the wire.
struct Wire {
  absl::Mutex mu;
  std::vector<uint8_t> bytes;
};

void CheckWireVisibility(Security security, bool visible) {
  auto wire = std::make_shared<Wire>();
  absl::StatusOr<ChannelPair> c = OpenChannelPair(
      [security](ChannelOptions& po, ChannelOptions& so) {
        po.security = so.security = security;
      },
      kPipeBytes,
      [wire](std::span<const uint8_t> bytes, Transport& inner) {
        {
          absl::MutexLock lock(&wire->mu);
          wire->bytes.insert(wire->bytes.end(), bytes.begin(), bytes.end());
        }
        return inner.Write(bytes);
      });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  EXPECT_EQ(primary.encrypted(), security == Security::kEncrypted);
  const std::string text = "a recognisable log entry: port 0x3f8 read 0x41";
  ASSERT_TRUE(
      primary.Send({reinterpret_cast<const uint8_t*>(text.data()), text.size()})
          .ok());
  absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::string(r->payload.begin(), r->payload.end()), text);
  absl::MutexLock lock(&wire->mu);
  const bool found = std::search(wire->bytes.begin(), wire->bytes.end(),
                                 text.begin(), text.end()) != wire->bytes.end();
  EXPECT_EQ(found, visible);
}

TEST(ChannelTest, EncryptedByDefaultPlaintextOnlyWhenChosen) {
  CheckWireVisibility(Security::kEncrypted, /*visible=*/false);
  CheckWireVisibility(Security::kPlaintext, /*visible=*/true);
}

// Opens a channel whose primary writes through `on_write` once the
// handshake is done, sends one DATA record, and returns both ends.
absl::StatusOr<ChannelPair> WithTamperedData(
    InterceptTransport::OnWrite on_write) {
  absl::StatusOr<ChannelPair> c = OpenChannelPair(
      {}, kPipeBytes,
      [on_write](std::span<const uint8_t> bytes, Transport& inner) {
        bool has_data = false;
        ForEachRecord(bytes, [&](size_t, const RecordHeader& h) {
          has_data |= h.type == RecordType::kData;
        });
        return has_data ? on_write(bytes, inner) : inner.Write(bytes);
      });
  if (c.ok()) (void)c->primary->Send(Payload(300, 1));
  return c;
}

TEST(ChannelTest, TamperedCiphertextIsRejectedAndBothSidesKnow) {
  absl::StatusOr<ChannelPair> c =
      WithTamperedData([](std::span<const uint8_t> bytes, Transport& inner) {
        std::vector<uint8_t> copy(bytes.begin(), bytes.end());
        ForEachRecord(copy, [&](size_t at, const RecordHeader& h) {
          if (h.type == RecordType::kData)
            copy[at + kRecordHeaderBytes + 5] ^= 1;
        });
        return inner.Write(copy);
      });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              AllOf(HasSubstr("DATA"), HasSubstr("failed authentication")));
  EXPECT_EQ(secondary.status(), r.status());
  // The primary is told why, in a CLOSE.
  ASSERT_TRUE(Eventually([&] { return !primary.status().ok(); }));
  absl::Status ps = primary.status();
  EXPECT_TRUE(absl::IsDataLoss(ps)) << ps;
  EXPECT_THAT(ps.message(), AllOf(HasSubstr("closed the channel"),
                                  HasSubstr("failed authentication")));
  EXPECT_EQ(primary.Send(Payload(1, 1)).status(), ps);
  EXPECT_EQ(primary.WaitAcked(SequenceNumber(1), In(absl::Seconds(1))), ps);
}

TEST(ChannelTest, GarbageIsRefused) {
  absl::StatusOr<ChannelPair> c =
      WithTamperedData([](std::span<const uint8_t>, Transport& inner) {
        const std::string junk = "this is not a record, it is junk";
        return inner.Write(
            {reinterpret_cast<const uint8_t*>(junk.data()), junk.size()});
      });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& secondary = *c->secondary;
  absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              AllOf(HasSubstr("bad magic"), HasSubstr("corrupt from here on")));
}

TEST(ChannelTest, PeerDisconnectingMidRecord) {
  absl::StatusOr<ChannelPair> c =
      WithTamperedData([](std::span<const uint8_t> bytes, Transport& inner) {
        // Half the bytes, then the primary's stream ends: to the secondary
        // it is a peer gone in the middle of a record.
        (void)inner.Write(bytes.first(bytes.size() / 2));
        inner.ShutdownWrite();
        return absl::UnavailableError("cut by the test");
      });
  ASSERT_TRUE(c.ok()) << c.status();
  Channel& primary = *c->primary;
  Channel& secondary = *c->secondary;
  absl::StatusOr<ReceivedData> r = secondary.Receive(In(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              HasSubstr("disconnected in the middle of a record"));
  // The primary's write failed and the secondary ended its side.
  ASSERT_TRUE(Eventually([&] { return !primary.status().ok(); }));
  EXPECT_TRUE(absl::IsUnavailable(primary.status())) << primary.status();
}

TEST(ChannelTest, DataOutOfSequenceEndsTheChannel) {
  auto c_peer = RawPeer::Connect(Options(Role::kSecondary));
  auto& c = c_peer.first;
  auto& peer = c_peer.second;
  ASSERT_TRUE(c.ok() && peer.ok()) << c.status() << peer.status();
  ASSERT_TRUE(peer->Send(RecordType::kData, 1, Payload(10, 1)).ok());
  ASSERT_TRUE(peer->Send(RecordType::kData, 3, Payload(10, 3)).ok());
  // What arrived before the violation is still delivered.
  absl::StatusOr<ReceivedData> first = (*c)->Receive(In(absl::Seconds(10)));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->sequence, SequenceNumber(1));
  absl::StatusOr<ReceivedData> r = (*c)->Receive(In(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              HasSubstr("DATA out of sequence: number 3, expected 2"));
  EXPECT_TRUE(absl::IsDataLoss((*c)->Ack(SequenceNumber(1))));
  // The peer gets a CLOSE with the reason.
  absl::StatusOr<SessionMessage> m =
      peer->NextNonHeartbeat(In(absl::Seconds(10)));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_TRUE(std::holds_alternative<CloseNotice>(*m));
  EXPECT_THAT(std::get<CloseNotice>(*m).reason, HasSubstr("out of sequence"));
}

// The reader acknowledges a read's DATA before handing it to Receive; a
// record later in the same read that ends the channel must not overtake
// it: a Receive already waiting gets the good record first.
TEST(ChannelTest, DataBeforeAnEndInTheSameReadIsDeliveredFirst) {
  auto c_peer = RawPeer::Connect(Options(Role::kSecondary));
  auto& c = c_peer.first;
  auto& peer = c_peer.second;
  ASSERT_TRUE(c.ok() && peer.ok()) << c.status() << peer.status();
  absl::StatusOr<ReceivedData> first = absl::UnknownError("not received");
  std::thread receiver([&] { first = (*c)->Receive(In(absl::Seconds(10))); });
  absl::SleepFor(absl::Milliseconds(100));  // the Receive waits
  std::vector<uint8_t> both;
  ASSERT_TRUE(peer->Seal(RecordType::kData, 1, Payload(10, 1), both).ok());
  ASSERT_TRUE(peer->Seal(RecordType::kData, 3, Payload(10, 3), both).ok());
  ASSERT_TRUE(peer->SendRaw(both).ok());
  receiver.join();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->sequence, SequenceNumber(1));
  absl::StatusOr<ReceivedData> r = (*c)->Receive(In(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
}

TEST(ChannelTest, AckOfUnsentDataEndsTheChannel) {
  auto c_peer = RawPeer::Connect(Options(Role::kPrimary));
  auto& c = c_peer.first;
  auto& peer = c_peer.second;
  ASSERT_TRUE(c.ok() && peer.ok());
  ASSERT_TRUE(peer->Send(RecordType::kAck, 5, {}).ok());
  ASSERT_TRUE(Eventually([&] { return !(*c)->status().ok(); }));
  absl::StatusOr<SequenceNumber> s = (*c)->Send(Payload(1, 1));
  EXPECT_TRUE(absl::IsDataLoss(s.status())) << s.status();
  EXPECT_THAT(s.status().message(),
              HasSubstr("acknowledged DATA 5, but only 0 were sent"));
}

TEST(ChannelTest, PeerIgnoringTheReceiveWindowEndsTheChannel) {
  ChannelOptions o = Options(Role::kSecondary);
  o.receive_window_bytes = 4096;
  auto c_peer = RawPeer::Connect(o);
  auto& c = c_peer.first;
  auto& peer = c_peer.second;
  ASSERT_TRUE(c.ok() && peer.ok());
  ASSERT_TRUE(peer->Send(RecordType::kData, 1, Payload(3000, 1)).ok());
  ASSERT_TRUE(peer->Send(RecordType::kData, 2, Payload(3000, 2)).ok());
  ASSERT_TRUE(Eventually([&] { return !(*c)->status().ok(); }));
  EXPECT_THAT((*c)->status().message(), HasSubstr("beyond our receive window"));
}

TEST(ChannelTest, PeerDisconnectingWithoutCloseEndsTheChannel) {
  auto c_peer = RawPeer::Connect(Options(Role::kSecondary));
  auto& c = c_peer.first;
  auto& peer = c_peer.second;
  ASSERT_TRUE(c.ok() && peer.ok());
  ASSERT_TRUE(peer->Send(RecordType::kData, 1, Payload(10, 1)).ok());
  peer->transport().Shutdown();
  ASSERT_TRUE((*c)->Receive(In(absl::Seconds(10))).ok());
  absl::StatusOr<ReceivedData> r = (*c)->Receive(In(absl::Seconds(10)));
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              HasSubstr("disconnected without closing the channel"));
}

// The peer's first records may arrive in the same read as its HELLO_REPLY;
// they must be delivered without waiting for more bytes.
TEST(ChannelTest, RecordsArrivingWithTheHandshakeAreDelivered) {
  auto a_b = MakeInProcPair();
  auto& a = a_b.first;
  auto& b = a_b.second;
  // The peer, by hand: its HELLO first.
  Hello ours{.versions = {kProtocolVersion},
             .role = Role::kSecondary,
             .wants_encryption = true,
             .receive_window_bytes = 1 << 20};
  ours.nonce.fill(7);
  const std::vector<uint8_t> our_body = EncodeHello(ours);
  std::vector<uint8_t> out;
  AppendPlainRecord(RecordType::kHello, our_body, out);
  ASSERT_TRUE(b->Write(out).ok());
  testing::ChannelOr channel = absl::UnknownError("not run");
  TestThread opener(
      [&] { channel = Channel::Open(std::move(a), Options(Role::kPrimary)); },
      [&] { b->Shutdown(); });
  // The channel's HELLO.
  RecordDecoder d;
  std::vector<uint8_t> buf(4096);
  std::optional<RawRecord> hello;
  while (!hello.has_value()) {
    absl::StatusOr<std::optional<RawRecord>> r = d.Next();
    ASSERT_TRUE(r.ok()) << r.status();
    if (r->has_value()) {
      hello = std::move(**r);
      break;
    }
    absl::StatusOr<size_t> n = b->Read(buf, In(absl::Seconds(10)));
    ASSERT_TRUE(n.ok() && *n > 0);
    d.Feed(std::span(buf).first(*n));
  }
  ASSERT_EQ(hello->header.type, RecordType::kHello);
  const std::span<const uint8_t> secret(
      reinterpret_cast<const uint8_t*>(testing::kSecret.data()),
      testing::kSecret.size());
  absl::StatusOr<SessionSecrets> keys =
      DeriveSessionSecrets(secret, hello->body, our_body, kProtocolVersion);
  ASSERT_TRUE(keys.ok());
  // HELLO_REPLY and a DATA record in one write, then silence.
  out.clear();
  AppendPlainRecord(RecordType::kHelloReply,
                    EncodeHelloReply({.version = kProtocolVersion,
                                      .proof = keys->secondary_proof}),
                    out);
  absl::StatusOr<crypto::AesGcm> sealer = crypto::AesGcm::Create(
      keys->secondary_to_primary, crypto::AesGcm::Mode::kSeal);
  ASSERT_TRUE(sealer.ok());
  ASSERT_TRUE(AppendSealedRecord(*sealer, 0, RecordType::kData, 1,
                                 /*encrypt=*/true, Payload(10, 1), out)
                  .ok());
  ASSERT_TRUE(b->Write(out).ok());
  opener.Join();
  ASSERT_TRUE(channel.ok()) << channel.status();
  absl::StatusOr<ReceivedData> r = (*channel)->Receive(In(absl::Seconds(10)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->payload, Payload(10, 1));
  b->Shutdown();
}

TEST(ChannelTest, BadOptionsAreRefused) {
  auto a_b = MakeInProcPair();
  auto& a = a_b.first;
  auto& b = a_b.second;
  ChannelOptions o = Options(Role::kPrimary);
  o.heartbeat_interval = absl::ZeroDuration();
  EXPECT_TRUE(absl::IsInvalidArgument(Channel::Open(std::move(a), o).status()));
  o = Options(Role::kPrimary);
  o.shared_secret = "short";
  absl::Status s = Channel::Open(std::move(b), o).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
}

}  // namespace
}  // namespace ft::logchannel
