// Tests for logchannel/session_codec.h: sealed records round trip in both
// modes, and every refusal of the decoder (tampering, replay, reordering,
// sequence and counter checks, stray handshake records, after CLOSE).
#include "logchannel/session_codec.h"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

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
Decoded DecodeAll(std::span<const uint8_t> stream, bool encrypted) {
  Decoded out;
  absl::StatusOr<SessionDecoder> d =
      SessionDecoder::Create(RecordDecoder(), TestKey(), encrypted);
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

class SessionCodecTest : public ::testing::TestWithParam<bool> {
 protected:
  bool encrypted() const { return GetParam(); }
  SessionEncoder Encoder() {
    absl::StatusOr<SessionEncoder> e =
        SessionEncoder::Create(TestKey(), encrypted());
    FT_CHECK_OK(e);
    return std::move(*e);
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
  ASSERT_TRUE(e.AppendHeartbeat(1000, stream).ok());
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

  Decoded d = DecodeAll(stream, encrypted());
  ASSERT_TRUE(d.status.ok()) << d.status;
  ASSERT_EQ(d.messages.size(), 5u);
  EXPECT_EQ(
      std::get<DataMessage>(d.messages[0]),
      (DataMessage{.sequence = SequenceNumber(1), .payload = secret_text}));
  EXPECT_EQ(std::get<DataMessage>(d.messages[1]).sequence, SequenceNumber(2));
  EXPECT_EQ(std::get<AckMessage>(d.messages[2]).acked, SequenceNumber(7));
  EXPECT_EQ(std::get<Heartbeat>(d.messages[3]),
            (Heartbeat{.sender_time_ns = 1000,
                       .sent = SequenceNumber(2),
                       .acked = SequenceNumber(7)}));
  EXPECT_EQ(std::get<CloseNotice>(d.messages[4]).reason, "done");
}

TEST_P(SessionCodecTest, EveryTamperedByteIsRefused) {
  SessionEncoder e = Encoder();
  std::vector<uint8_t> stream;
  ASSERT_TRUE(e.AppendData(SequenceNumber(1), Bytes("payload"), stream).ok());
  for (size_t i = 0; i < stream.size(); ++i) {
    std::vector<uint8_t> bad = stream;
    bad[i] ^= 0x04;
    Decoded d = DecodeAll(bad, encrypted());
    EXPECT_TRUE(d.messages.empty()) << "byte " << i;
    EXPECT_FALSE(d.status.ok()) << "byte " << i;
  }
  // A byte of the body: refused by the tag, with a clear message.
  std::vector<uint8_t> bad = stream;
  bad[kRecordHeaderBytes + 2] ^= 0x04;
  Decoded d = DecodeAll(bad, encrypted());
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
  Decoded d = DecodeAll(replayed, encrypted());
  EXPECT_EQ(d.messages.size(), 1u);
  EXPECT_THAT(d.status.message(), HasSubstr("failed authentication"));
  std::vector<uint8_t> reordered = r2;
  reordered.insert(reordered.end(), r1.begin(), r1.end());
  d = DecodeAll(reordered, encrypted());
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
  const std::vector<Case> cases = {
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
             EncodeHeartbeat({.sender_time_ns = 5, .sent = SequenceNumber(9)}),
             out));
       },
       "HEARTBEAT says 9 DATA sent"},
      {"heartbeat time backwards",
       [&](crypto::AesGcm& g, std::vector<uint8_t>& out) {
         FT_CHECK_OK(AppendSealedRecord(g, 0, RecordType::kHeartbeat, 0, enc,
                                        EncodeHeartbeat({.sender_time_ns = 5}),
                                        out));
         FT_CHECK_OK(AppendSealedRecord(g, 1, RecordType::kHeartbeat, 0, enc,
                                        EncodeHeartbeat({.sender_time_ns = 4}),
                                        out));
       },
       "went backwards"},
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
  for (const Case& c : cases) {
    crypto::AesGcm g = Sealer();
    std::vector<uint8_t> stream;
    c.build(g, stream);
    Decoded d = DecodeAll(stream, enc);
    EXPECT_TRUE(absl::IsDataLoss(d.status)) << c.name << ": " << d.status;
    EXPECT_THAT(d.status.message(), HasSubstr(c.error)) << c.name;
  }
}

TEST_P(SessionCodecTest, StreamCutInsideARecord) {
  SessionEncoder e = Encoder();
  std::vector<uint8_t> stream;
  ASSERT_TRUE(e.AppendData(SequenceNumber(1), Bytes("abcdef"), stream).ok());
  stream.resize(stream.size() - 3);
  Decoded d = DecodeAll(stream, encrypted());
  EXPECT_TRUE(absl::IsOutOfRange(d.status)) << d.status;
  EXPECT_THAT(d.status.message(), HasSubstr("inside its DATA body"));
}

TEST(RecordNonceTest, CounterIsBigEndianAfterFourZeroBytes) {
  const crypto::GcmNonce n = RecordNonce(0x0102030405060708);
  EXPECT_EQ(n, (crypto::GcmNonce{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_NE(RecordNonce(1), RecordNonce(2));
}

INSTANTIATE_TEST_SUITE_P(Modes, SessionCodecTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "Encrypted" : "Plaintext";
                         });

}  // namespace
}  // namespace ft::logchannel
