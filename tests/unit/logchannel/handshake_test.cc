// Tests for logchannel/handshake.h: agreement on keys and version, and the
// refusals (wrong secret, no common version, encryption mismatch, same
// role, garbage, a peer that disconnects mid-record or stays silent), each
// with a clear error on both sides where both can tell.
#include "logchannel/handshake.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "logchannel/inproc_transport.h"
#include "tests/unit/logchannel/channel_test_util.h"

namespace ft::logchannel {
namespace {

using ::ft::logchannel::testing::HandshakeBoth;
using ::ft::logchannel::testing::HsOptions;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(NegotiateVersionTest, HighestCommon) {
  const std::vector<uint16_t> ours = {2, 1};
  EXPECT_EQ(*NegotiateVersion(ours, std::vector<uint16_t>{1, 2}), 2);
  EXPECT_EQ(*NegotiateVersion(ours, std::vector<uint16_t>{1}), 1);
  EXPECT_EQ(*NegotiateVersion(ours, std::vector<uint16_t>{3, 1}), 1);
  absl::StatusOr<uint16_t> none =
      NegotiateVersion(ours, std::vector<uint16_t>{4, 3});
  EXPECT_TRUE(absl::IsFailedPrecondition(none.status()));
  EXPECT_THAT(none.status().message(),
              HasSubstr("we accept 2, 1; the peer accepts 4, 3"));
}

TEST(HandshakeOptionsTest, BadOptionsAreRefusedBeforeSending) {
  HandshakeOptions o = HsOptions(Role::kPrimary);
  o.secret = "short";
  EXPECT_THAT(ValidateHandshakeOptions(o).message(), HasSubstr("at least 16"));
  o = HsOptions(Role::kPrimary);
  o.versions = {};
  EXPECT_FALSE(ValidateHandshakeOptions(o).ok());
  o.versions = {2, 2};
  EXPECT_THAT(ValidateHandshakeOptions(o).message(), HasSubstr("distinct"));
  o = HsOptions(Role::kPrimary);
  o.receive_window_bytes = 10;
  EXPECT_FALSE(ValidateHandshakeOptions(o).ok());
  EXPECT_TRUE(ValidateHandshakeOptions(HsOptions(Role::kSecondary)).ok());
}

TEST(DeriveSessionSecretsTest, BoundToEverythingInTheTranscript) {
  const std::string secret = testing::kSecret;
  const std::span<const uint8_t> s(
      reinterpret_cast<const uint8_t*>(secret.data()), secret.size());
  const std::vector<uint8_t> p = {1, 2, 3};
  const std::vector<uint8_t> q = {4, 5, 6};
  const SessionSecrets a = *DeriveSessionSecrets(s, p, q, 2);
  const SessionSecrets again = *DeriveSessionSecrets(s, p, q, 2);
  EXPECT_EQ(a.primary_proof, again.primary_proof);
  // All four outputs differ from each other.
  EXPECT_NE(a.primary_proof, a.secondary_proof);
  EXPECT_NE(a.primary_to_secondary, a.secondary_to_primary);
  EXPECT_NE(a.primary_proof, a.primary_to_secondary);
  // And change with each input.
  EXPECT_NE(DeriveSessionSecrets(s, q, p, 2)->primary_proof, a.primary_proof);
  EXPECT_NE(DeriveSessionSecrets(s, p, q, 1)->primary_proof, a.primary_proof);
  EXPECT_NE(DeriveSessionSecrets(s.first(31), p, q, 2)->primary_proof,
            a.primary_proof);
}

struct Pair {
  std::unique_ptr<Transport> a;
  std::unique_ptr<Transport> b;
};
Pair MakePair() {
  auto a_b = MakeInProcPair();
  auto& a = a_b.first;
  auto& b = a_b.second;
  return {std::move(a), std::move(b)};
}

TEST(HandshakeTest, BothSidesAgree) {
  Pair t = MakePair();
  auto p_s = HandshakeBoth(*t.a, HsOptions(Role::kPrimary), *t.b,
                           HsOptions(Role::kSecondary));
  auto& p = p_s.first;
  auto& s = p_s.second;
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(p->version, kProtocolVersion);
  EXPECT_EQ(s->version, kProtocolVersion);
  EXPECT_EQ(p->peer_role, Role::kSecondary);
  EXPECT_EQ(s->peer_role, Role::kPrimary);
  EXPECT_TRUE(p->encrypted && s->encrypted);
  EXPECT_EQ(p->send_key, s->receive_key);
  EXPECT_EQ(p->receive_key, s->send_key);
  EXPECT_NE(p->send_key, p->receive_key);
  EXPECT_EQ(p->peer_receive_window_bytes,
            HsOptions(Role::kSecondary).receive_window_bytes);

  // A second connection gets other keys (fresh nonces).
  Pair t2 = MakePair();
  auto p2_s2 = HandshakeBoth(*t2.a, HsOptions(Role::kPrimary), *t2.b,
                             HsOptions(Role::kSecondary));
  auto& p2 = p2_s2.first;
  auto& s2 = p2_s2.second;
  ASSERT_TRUE(p2.ok() && s2.ok());
  EXPECT_NE(p2->send_key, p->send_key);
}

TEST(HandshakeTest, PreviousVersionIsStillAccepted) {
  Pair t = MakePair();
  HandshakeOptions old = HsOptions(Role::kSecondary);
  old.versions = {kOldestProtocolVersion};
  auto p_s = HandshakeBoth(*t.a, HsOptions(Role::kPrimary), *t.b, old);
  auto& p = p_s.first;
  auto& s = p_s.second;
  ASSERT_TRUE(p.ok() && s.ok()) << p.status() << " / " << s.status();
  EXPECT_EQ(p->version, kOldestProtocolVersion);
  EXPECT_EQ(s->version, kOldestProtocolVersion);
}

TEST(HandshakeTest, WrongSecretIsRefusedOnBothSides) {
  Pair t = MakePair();
  HandshakeOptions other = HsOptions(Role::kSecondary);
  other.secret = "another secret of 32 bytes......";
  auto p_s = HandshakeBoth(*t.a, HsOptions(Role::kPrimary), *t.b, other);
  auto& p = p_s.first;
  auto& s = p_s.second;
  for (const auto* r : {&p, &s}) {
    EXPECT_TRUE(absl::IsUnauthenticated(r->status())) << r->status();
    EXPECT_THAT(r->status().message(), HasSubstr("wrong shared secret"));
  }
}

TEST(HandshakeTest, NoCommonVersionNamesBothSides) {
  Pair t = MakePair();
  HandshakeOptions future = HsOptions(Role::kSecondary);
  future.versions = {6, 5};
  auto p_s = HandshakeBoth(*t.a, HsOptions(Role::kPrimary), *t.b, future);
  auto& p = p_s.first;
  auto& s = p_s.second;
  EXPECT_TRUE(absl::IsFailedPrecondition(p.status())) << p.status();
  EXPECT_THAT(p.status().message(),
              HasSubstr("no common protocol version: we accept 4, 3, 2; the "
                        "peer accepts 6, 5"));
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(),
              HasSubstr("we accept 6, 5; the peer accepts 4, 3, 2"));
}

TEST(HandshakeTest, EncryptionMismatchIsRefusedOnBothSides) {
  Pair t = MakePair();
  HandshakeOptions plain = HsOptions(Role::kSecondary);
  plain.encrypt = false;
  auto p_s = HandshakeBoth(*t.a, HsOptions(Role::kPrimary), *t.b, plain);
  auto& p = p_s.first;
  auto& s = p_s.second;
  EXPECT_TRUE(absl::IsFailedPrecondition(p.status())) << p.status();
  EXPECT_THAT(p.status().message(),
              HasSubstr("the peer wants plaintext, we require encryption"));
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(),
              HasSubstr("the peer requires encryption, we are configured for "
                        "plaintext"));
}

TEST(HandshakeTest, PlaintextByBothSidesIsAccepted) {
  Pair t = MakePair();
  HandshakeOptions a = HsOptions(Role::kPrimary);
  HandshakeOptions b = HsOptions(Role::kSecondary);
  a.encrypt = b.encrypt = false;
  auto p_s = HandshakeBoth(*t.a, a, *t.b, b);
  auto& p = p_s.first;
  auto& s = p_s.second;
  ASSERT_TRUE(p.ok() && s.ok());
  EXPECT_FALSE(p->encrypted);
  // Still keyed: records are authenticated.
  EXPECT_EQ(p->send_key, s->receive_key);
}

TEST(HandshakeTest, SameRoleIsRefused) {
  Pair t = MakePair();
  auto p_s = HandshakeBoth(*t.a, HsOptions(Role::kPrimary), *t.b,
                           HsOptions(Role::kPrimary));
  auto& p = p_s.first;
  auto& s = p_s.second;
  for (const auto* r : {&p, &s}) {
    EXPECT_TRUE(absl::IsFailedPrecondition(r->status())) << r->status();
    EXPECT_THAT(r->status().message(),
                HasSubstr("both sides are configured as primary"));
  }
}

TEST(HandshakeTest, RefusalArrivesAsTheRefusingPeersReason) {
  // A peer that only refuses: our side reports its reason and code.
  Pair t = MakePair();
  std::vector<uint8_t> out;
  AppendPlainRecord(RecordType::kClose,
                    EncodeClose({.code = absl::StatusCode::kPermissionDenied,
                                 .reason = "not today"}),
                    out);
  ASSERT_TRUE(t.b->Write(out).ok());
  absl::StatusOr<HandshakeResult> r =
      RunHandshake(*t.a, HsOptions(Role::kPrimary));
  EXPECT_TRUE(absl::IsPermissionDenied(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              HasSubstr("refused the handshake: not today"));
}

TEST(HandshakeTest, GarbageIsRefused) {
  Pair t = MakePair();
  const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(
      t.b->Write({reinterpret_cast<const uint8_t*>(http.data()), http.size()})
          .ok());
  absl::StatusOr<HandshakeResult> r =
      RunHandshake(*t.a, HsOptions(Role::kPrimary));
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              HasSubstr("does not speak the ftvm log channel protocol"));
}

TEST(HandshakeTest, WrongRecordTypeIsRefused) {
  Pair t = MakePair();
  std::vector<uint8_t> out;
  AppendPlainRecord(RecordType::kHelloReply, EncodeHelloReply({.version = 2}),
                    out);
  ASSERT_TRUE(t.b->Write(out).ok());
  absl::StatusOr<HandshakeResult> r =
      RunHandshake(*t.a, HsOptions(Role::kPrimary));
  EXPECT_THAT(r.status().message(),
              HasSubstr("expected HELLO, got HELLO_REPLY"));
}

TEST(HandshakeTest, PeerDisconnectingMidRecord) {
  Pair t = MakePair();
  std::vector<uint8_t> out;
  AppendPlainRecord(
      RecordType::kHello,
      EncodeHello({.versions = {2}, .receive_window_bytes = 1 << 20}), out);
  ASSERT_TRUE(t.b->Write(std::span(out).first(20)).ok());
  t.b->ShutdownWrite();  // the peer's end of stream, 4 bytes into a body
  absl::StatusOr<HandshakeResult> r =
      RunHandshake(*t.a, HsOptions(Role::kPrimary));
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              AllOf(HasSubstr("disconnected before its HELLO"),
                    HasSubstr("inside its HELLO body (4 of 45 bytes)")));
}

TEST(HandshakeTest, SilentPeerTimesOut) {
  Pair t = MakePair();
  HandshakeOptions o = HsOptions(Role::kPrimary);
  o.deadline = absl::Now() + absl::Milliseconds(50);
  absl::StatusOr<HandshakeResult> r = RunHandshake(*t.a, o);
  EXPECT_TRUE(absl::IsDeadlineExceeded(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("no HELLO before the deadline"));
}

TEST(HandshakeTest, BadHelloBodyIsRefusedAndThePeerTold) {
  Pair t = MakePair();
  std::vector<uint8_t> hello = EncodeHello({.versions = {2},
                                            .role = Role::kSecondary,
                                            .receive_window_bytes = 1 << 20});
  hello[3] = 9;  // role
  std::vector<uint8_t> out;
  AppendPlainRecord(RecordType::kHello, hello, out);
  ASSERT_TRUE(t.b->Write(out).ok());
  absl::StatusOr<HandshakeResult> r =
      RunHandshake(*t.a, HsOptions(Role::kPrimary));
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("unknown role 9"));
  // What the peer reads (all written before RunHandshake returned): our
  // HELLO, then a CLOSE with the reason.
  std::vector<uint8_t> buf(4096);
  absl::StatusOr<size_t> n = t.b->Read(buf, absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(n.ok());
  RecordDecoder d;
  d.Feed(std::span(buf).first(*n));
  absl::StatusOr<std::optional<RawRecord>> first = d.Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->header.type, RecordType::kHello);
  absl::StatusOr<std::optional<RawRecord>> second = d.Next();
  ASSERT_TRUE(second.ok() && second->has_value());
  ASSERT_EQ((*second)->header.type, RecordType::kClose);
  absl::StatusOr<CloseNotice> c = ParseClose((*second)->body);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->code, absl::StatusCode::kDataLoss);
  EXPECT_THAT(c->reason, HasSubstr("unknown role 9"));
}

}  // namespace
}  // namespace ft::logchannel
