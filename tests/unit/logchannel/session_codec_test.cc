// Tests for logchannel/session_codec.h: sealed records round trip in both
// modes and both protocol versions accepted, and every refusal of the
// decoder (tampering, replay, reordering, sequence and counter checks,
// heartbeat time and progress going backwards, a heartbeat body of the
// wrong version, stray handshake records, after CLOSE).
#include "logchannel/session_codec.h"

#include <algorithm>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::logchannel {
namespace {

using ::testing::HasSubstr;

crypto::Key TestKey() {
  crypto::Key k;
  k.fill(0x5a);
  return k;
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

// Decodes all of `stream`; the messages and the final status (OK at a clean
// end).
struct Decoded {
  std::vector<SessionMessage> messages;
  absl::Status status;
};
Decoded DecodeAll(std::span<const uint8_t> stream, bool encrypted,
                  uint16_t version) {
  Decoded out;
  absl::StatusOr<SessionDecoder> d =
      SessionDecoder::Create(RecordDecoder(), TestKey(), encrypted, version);
  FT_CHECK_OK(d);
  d->Feed(stream);
  while (true) {
    absl::StatusOr<std::optional<SessionMessage>> m = d->Next();
    if (!m.ok()) {
      out.status = m.status();
      return out;
    }
    if (!m->has_value()) break;
    out.messages.push_back(std::move(**m));
  }
  out.status = d->Finish();
  return out;
}

// Encrypted or not, in a protocol version.
class SessionCodecTest
    : public ::testing::TestWithParam<std::tuple<bool, uint16_t>> {
 protected:
  bool encrypted() const { return std::get<0>(GetParam()); }
  uint16_t version() const { return std::get<1>(GetParam()); }
  bool has_progress() const { return version() >= 3; }
  SessionEncoder Encoder() {
    absl::StatusOr<SessionEncoder> e =
        SessionEncoder::Create(TestKey(), encrypted(), version());
    FT_CHECK_OK(e);
    return std::move(*e);
  }
  Decoded Decode(std::span<const uint8_t> stream) {
    return DecodeAll(stream, encrypted(), version());
  }
  crypto::AesGcm Sealer() {
    auto g = crypto::AesGcm::Create(TestKey(), crypto::AesGcm::Mode::kSeal);
    FT_CHECK_OK(g);
    return std::move(*g);
  }
};

TEST_P(SessionCodecTest, RoundTrip) {
  SessionEncoder e = Encoder();
  std::vector<uint8_t> stream;
  const std::vector<uint8_t> secret_text =
      Bytes("the guest read 0x42 at port 0x71");
  ASSERT_TRUE(e.AppendData(SequenceNumber(1), secret_text, stream).ok());
  ASSERT_TRUE(e.AppendData(SequenceNumber(2), {}, stream).ok());
  ASSERT_TRUE(e.AppendAck(SequenceNumber(7), stream).ok());
  ASSERT_TRUE(e.AppendHeartbeat(1000, 42, stream).ok());
  ASSERT_TRUE(
      e.AppendClose({.code = absl::StatusCode::kCancelled, .reason = "done"},
                    stream)
          .ok());
  EXPECT_EQ(e.records(), 5u);

  // Whether the payload can be read on the wire is what the mode decides.
  const bool visible =
      std::search(stream.begin(), stream.end(), secret_text.begin(),
                  secret_text.end()) != stream.end();
  EXPECT_EQ(visible, !encrypted());

  Decoded d = Decode(stream);
  ASSERT_TRUE(d.status.ok()) << d.status;
  ASSERT_EQ(d.messages.size(), 5u);
  EXPECT_EQ(
      std::get<DataMessage>(d.messages[0]),
      (DataMessage{.sequence = SequenceNumber(1), .payload = secret_text}));
  EXPECT_EQ(std::get<DataMessage>(d.messages[1]).sequence, SequenceNumber(2));
  EXPECT_EQ(std::get<AckMessage>(d.messages[2]).acked, SequenceNumber(7));
  // Version 2 has no progress: its peer reads 0.
  EXPECT_EQ(std::get<Heartbeat>(d.messages[3]),
            (Heartbeat{.sender_time_ns = 1000,
                       .sent = SequenceNumber(2),
                       .acked = SequenceNumber(7),
                       .progress = has_progress() ? 42u : 0u}));
  EXPECT_EQ(std::get<CloseNotice>(d.messages[4]).reason, "done");
}

TEST_P(SessionCodecTest, EveryTamperedByteIsRefused) {
  SessionEncoder e = Encoder();
  std::vector<uint8_t> stream;
  ASSERT_TRUE(e.AppendData(SequenceNumber(1), Bytes("payload"), stream).ok());
  for (size_t i = 0; i < stream.size(); ++i) {
    std::vector<uint8_t> bad = stream;
    bad[i] ^= 0x04;
    Decoded d = Decode(bad);
    EXPECT_TRUE(d.messages.empty()) << "byte " << i;
    EXPECT_FALSE(d.status.ok()) << "byte " << i;
  }
  // A byte of the body: refused by the tag, with a clear message.
  std::vector<uint8_t> bad = stream;
  bad[kRecordHeaderBytes + 2] ^= 0x04;
  Decoded d = Decode(bad);
  EXPECT_TRUE(absl::IsDataLoss(d.status));
  EXPECT_THAT(d.status.message(), HasSubstr("failed authentication"));
  EXPECT_THAT(d.status.message(), HasSubstr("record 0 (DATA) at byte 0"));
}

TEST_P(SessionCodecTest, ReplayedOrReorderedRecordsFailAuthentication) {
  SessionEncoder e = Encoder();
  std::vector<uint8_t> r1, r2;
  ASSERT_TRUE(e.AppendData(SequenceNumber(1), Bytes("one"), r1).ok());
  ASSERT_TRUE(e.AppendData(SequenceNumber(2), Bytes("two"), r2).ok());
  std::vector<uint8_t> replayed = r1;
  replayed.insert(replayed.end(), r1.begin(), r1.end());
  Decoded d = Decode(replayed);
  EXPECT_EQ(d.messages.size(), 1u);
  EXPECT_THAT(d.status.message(), HasSubstr("failed authentication"));
  std::vector<uint8_t> reordered = r2;
  reordered.insert(reordered.end(), r1.begin(), r1.end());
  d = Decode(reordered);
  EXPECT_TRUE(d.messages.empty());
  EXPECT_THAT(d.status.message(), HasSubstr("failed authentication"));
}

TEST_P(SessionCodecTest, ProtocolViolationsAreRefused) {
  struct Case {
    std::string name;
    std::function<void(crypto::AesGcm&, std::vector<uint8_t>&)> build;
    std::string error;
  };
  const bool enc = encrypted();
  const uint16_t v = version();
  // The version's heartbeat body.
  auto heartbeat = [v](Heartbeat hb) { return EncodeHeartbeat(hb, v); };
  std::vector<Case> cases = {
      {"data out of sequence",
       [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
         FT_CHECK_OK(AppendSealedRecord(g, 0, RecordType::kData, 1, enc,
                                        Bytes("a"), out));
         FT_CHECK_OK(AppendSealedRecord(g, 1, RecordType::kData, 3, enc,
                                        Bytes("c"), out));
       },
       "DATA out of sequence: number 3, expected 2"},
      {"ack that does not advance",
       [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
         FT_CHECK_OK(
             AppendSealedRecord(g, 0, RecordType::kAck, 4, enc, {}, out));
         FT_CHECK_OK(
             AppendSealedRecord(g, 1, RecordType::kAck, 4, enc, {}, out));
       },
       "does not advance"},
      {"heartbeat counters disagree",
       [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
         FT_CHECK_OK(AppendSealedRecord(
             g, 0, RecordType::kHeartbeat, 0, enc,
             heartbeat({.sender_time_ns = 5, .sent = SequenceNumber(9)}), out));
       },
       "HEARTBEAT says 9 DATA sent"},
      {"heartbeat time backwards",
       [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
         FT_CHECK_OK(AppendSealedRecord(g, 0, RecordType::kHeartbeat, 0, enc,
                                        heartbeat({.sender_time_ns = 5}), out));
         FT_CHECK_OK(AppendSealedRecord(g, 1, RecordType::kHeartbeat, 0, enc,
                                        heartbeat({.sender_time_ns = 4}), out));
       },
       "HEARTBEAT time went backwards"},
      {"heartbeat body of the other version",
       [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
         const uint16_t other = v == 2 ? kProtocolVersion : 2;
         FT_CHECK_OK(AppendSealedRecord(
             g, 0, RecordType::kHeartbeat, 0, enc,
             EncodeHeartbeat({.sender_time_ns = 5}, other), out));
       },
       v == 2 ? "HEARTBEAT body of 32 bytes (must be 24 in protocol version 2)"
              : absl::StrCat("HEARTBEAT body of 24 bytes (must be 32 in "
                             "protocol version ",
                             v, ")")},
      {"hello after the handshake",
       [&](crypto::AesGcm&, std::vector<uint8_t>& out) {
         AppendPlainRecord(
             RecordType::kHello,
             EncodeHello({.versions = {2}, .receive_window_bytes = 1 << 20}),
             out);
       },
       "handshake record after the handshake"},
      {"unsealed close",
       [&](crypto::AesGcm&, std::vector<uint8_t>& out) {
         AppendPlainRecord(RecordType::kClose,
                           EncodeClose({.code = absl::StatusCode::kAborted}),
                           out);
       },
       "not sealed"},
      {"the other mode",
       [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
         FT_CHECK_OK(AppendSealedRecord(g, 0, RecordType::kData, 1, !enc,
                                        Bytes("x"), out));
       },
       enc ? "plaintext record on an encrypted channel"
           : "encrypted record on a plaintext channel"},
      {"record after close",
       [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
         FT_CHECK_OK(AppendSealedRecord(
             g, 0, RecordType::kClose, 0, enc,
             EncodeClose({.code = absl::StatusCode::kCancelled}), out));
         FT_CHECK_OK(
             AppendSealedRecord(g, 1, RecordType::kAck, 1, enc, {}, out));
       },
       "after its CLOSE"},
      {"bad close body",
       [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
         FT_CHECK_OK(AppendSealedRecord(g, 0, RecordType::kClose, 0, enc,
                                        std::vector<uint8_t>{1, 0}, out));
       },
       "CLOSE body of 2 bytes"},
  };
  if (has_progress()) {
    cases.push_back(
        {"heartbeat progress backwards",
         [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
           FT_CHECK_OK(AppendSealedRecord(
               g, 0, RecordType::kHeartbeat, 0, enc,
               heartbeat({.sender_time_ns = 5, .progress = 9}), out));
           FT_CHECK_OK(AppendSealedRecord(
               g, 1, RecordType::kHeartbeat, 0, enc,
               heartbeat({.sender_time_ns = 6, .progress = 8}), out));
         },
         "record 1 (HEARTBEAT) at byte 64: HEARTBEAT progress went backwards "
         "from 9 to 8"});
  }
  for (const Case& c : cases) {
    crypto::AesGcm g = Sealer();
    std::vector<uint8_t> stream;
    c.build(g, stream);
    Decoded d = Decode(stream);
    EXPECT_TRUE(absl::IsDataLoss(d.status)) << c.name << ": " << d.status;
    EXPECT_THAT(d.status.message(), HasSubstr(c.error)) << c.name;
  }
}

// Progress may stay where it is, never go back; in version 2 it is not
// carried at all, so whatever the sender's counter does, the peer reads 0.
TEST_P(SessionCodecTest, HeartbeatProgress) {
  SessionEncoder e = Encoder();
  std::vector<uint8_t> stream;
  for (uint64_t progress : {5, 5, 9}) {
    ASSERT_TRUE(e.AppendHeartbeat(100, progress, stream).ok());
  }
  Decoded d = Decode(stream);
  ASSERT_TRUE(d.status.ok()) << d.status;
  std::vector<uint64_t> seen;
  for (const SessionMessage& m : d.messages) {
    seen.push_back(std::get<Heartbeat>(m).progress);
  }
  const std::vector<uint64_t> want = has_progress()
                                         ? std::vector<uint64_t>{5, 5, 9}
                                         : std::vector<uint64_t>{0, 0, 0};
  EXPECT_EQ(seen, want);

  ASSERT_TRUE(e.AppendHeartbeat(100, 8, stream).ok());
  d = Decode(stream);
  if (has_progress()) {
    EXPECT_TRUE(absl::IsDataLoss(d.status)) << d.status;
    EXPECT_THAT(d.status.message(),
                HasSubstr("HEARTBEAT progress went backwards from 9 to 8"));
  } else {
    EXPECT_TRUE(d.status.ok()) << d.status;
  }
}

TEST(SessionCodecVersionTest, UnsupportedVersionsAreRefused) {
  for (uint16_t v : {1, 5}) {
    absl::StatusOr<SessionEncoder> e =
        SessionEncoder::Create(TestKey(), true, v);
    EXPECT_TRUE(absl::IsInvalidArgument(e.status())) << e.status();
    absl::StatusOr<SessionDecoder> d =
        SessionDecoder::Create(RecordDecoder(), TestKey(), true, v);
    EXPECT_TRUE(absl::IsInvalidArgument(d.status())) << d.status();
    EXPECT_THAT(d.status().message(), HasSubstr("is not supported"));
  }
}

TEST_P(SessionCodecTest, StreamCutInsideARecord) {
  SessionEncoder e = Encoder();
  std::vector<uint8_t> stream;
  ASSERT_TRUE(e.AppendData(SequenceNumber(1), Bytes("abcdef"), stream).ok());
  stream.resize(stream.size() - 3);
  Decoded d = Decode(stream);
  EXPECT_TRUE(absl::IsOutOfRange(d.status)) << d.status;
  EXPECT_THAT(d.status.message(), HasSubstr("inside its DATA body"));
}

TEST(RecordNonceTest, CounterIsBigEndianAfterFourZeroBytes) {
  const crypto::GcmNonce n = RecordNonce(0x0102030405060708);
  EXPECT_EQ(n, (crypto::GcmNonce{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_NE(RecordNonce(1), RecordNonce(2));
}

INSTANTIATE_TEST_SUITE_P(
    ModesAndVersions, SessionCodecTest,
    ::testing::Combine(::testing::Bool(),
                       ::testing::ValuesIn(SpokenProtocolVersions())),
    [](const ::testing::TestParamInfo<std::tuple<bool, uint16_t>>& p) {
      return absl::StrCat(std::get<0>(p.param) ? "Encrypted" : "Plaintext", "V",
                          std::get<1>(p.param));
    });

}  // namespace
}  // namespace ft::logchannel
