// Tests for logchannel/record.h and record_decoder.h: the header layout and
// its checks, the body codecs, and the stream decoder on streams split at
// every byte, truncated, oversized and foreign; the protocol versions
// spoken and what they change (the HEARTBEAT body).
#include "logchannel/record.h"

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "logchannel/record_decoder.h"

namespace ft::logchannel {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<RecordHeader> Parse(const std::array<uint8_t, 16>& b) {
  return ParseRecordHeader(b);
}

TEST(RecordHeaderTest, LayoutIsMagicTypeFlagsLengthSequence) {
  const auto b = EncodeRecordHeader({.type = RecordType::kAck,
                                     .flags = kFlagSealed,
                                     .length = 0x10,
                                     .sequence = 0x0102030405060708});
  EXPECT_EQ(b, (std::array<uint8_t, 16>{'F', 'C', 4, 1, 0x10, 0, 0, 0, 8, 7, 6,
                                        5, 4, 3, 2, 1}));
  absl::StatusOr<RecordHeader> h = Parse(b);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->sequence, 0x0102030405060708u);
  EXPECT_TRUE(h->sealed());
  EXPECT_FALSE(h->encrypted());
}

TEST(RecordHeaderTest, EveryFieldIsChecked) {
  auto with = [](RecordHeader h) { return Parse(EncodeRecordHeader(h)); };
  auto refused = [](const absl::StatusOr<RecordHeader>& h,
                    const std::string& what) {
    EXPECT_TRUE(absl::IsDataLoss(h.status())) << what << ": " << h.status();
    EXPECT_THAT(h.status().message(), HasSubstr(what));
  };
  std::array<uint8_t, 16> b = EncodeRecordHeader({.type = RecordType::kClose});
  b[2] = 0;
  refused(Parse(b), "unknown record type 0");
  b[2] = 7;
  refused(Parse(b), "unknown record type 7");
  b = EncodeRecordHeader({.type = RecordType::kClose});
  b[0] = 'X';
  refused(Parse(b), "magic");
  refused(with({.type = RecordType::kClose, .flags = 0x80}), "unknown flags");
  refused(with({.type = RecordType::kClose, .flags = kFlagEncrypted}),
          "encrypted but not sealed");
  refused(with({.type = RecordType::kData,
                .length = uint32_t(kMaxDataBytes + 1),
                .sequence = 1}),
          "exceeds its bound");
  refused(with({.type = RecordType::kAck, .length = 1, .sequence = 1}),
          "exceeds its bound");
  refused(with({.type = RecordType::kAck,
                .flags = kFlagSealed,
                .length = kTagBytes - 1,
                .sequence = 1}),
          "too short for its tag");
  refused(with({.type = RecordType::kData, .sequence = 0}),
          "sequence number 0");
  refused(with({.type = RecordType::kHeartbeat,
                .flags = kFlagSealed,
                .length = kTagBytes + kHeartbeatBytes,
                .sequence = 3}),
          "must be 0");
  // The largest DATA record, sealed, is accepted.
  EXPECT_TRUE(with({.type = RecordType::kData,
                    .flags = kFlagSealed | kFlagEncrypted,
                    .length = uint32_t(kMaxDataBytes + kTagBytes),
                    .sequence = 9})
                  .ok());
}

TEST(RecordBodyTest, HelloRoundTripsAndIsChecked) {
  Hello h{.versions = {2, 1},
          .role = Role::kSecondary,
          .wants_encryption = false,
          .receive_window_bytes = 1 << 20};
  h.nonce[0] = 7;
  h.nonce[31] = 9;
  std::vector<uint8_t> body = EncodeHello(h);
  EXPECT_LE(body.size(), kMaxHelloBytes);
  absl::StatusOr<Hello> back = ParseHello(body);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, h);

  auto refused = [](std::vector<uint8_t> b, const std::string& what) {
    absl::StatusOr<Hello> r = ParseHello(b);
    EXPECT_TRUE(absl::IsDataLoss(r.status())) << what << ": " << r.status();
    EXPECT_THAT(r.status().message(), HasSubstr(what));
  };
  refused({}, "ends inside its version count");
  std::vector<uint8_t> b = body;
  b[0] = 0;
  refused(b, "offers 0 protocol versions");
  b = body;
  b[0] = 9;
  refused(b, "offers 9 protocol versions");
  b = body;
  b[3] = 2;  // second version 2 again
  b[4] = 0;
  refused(b, "version 2 twice");
  b = body;
  b[1] = 0;  // first version 0
  b[2] = 0;
  refused(b, "version 0");
  b = body;
  b[5] = 3;
  refused(b, "unknown role 3");
  b = body;
  b[6] = 2;
  refused(b, "unknown flags");
  b = EncodeHello({.versions = {2}, .receive_window_bytes = 100});
  refused(b, "receive window of 100");
  b = body;
  b.pop_back();
  refused(b, "ends inside its settings");
  b = body;
  b.push_back(0);
  refused(b, "1 bytes after its last field");
}

TEST(RecordVersionTest, TheCurrentAndThePreviousAreSpoken) {
  EXPECT_EQ(kProtocolVersion, 4);
  EXPECT_EQ(kOldestProtocolVersion, 2);
  EXPECT_TRUE(CheckSupportedVersion(4).ok());
  EXPECT_TRUE(CheckSupportedVersion(3).ok());
  EXPECT_TRUE(CheckSupportedVersion(2).ok());
  for (uint16_t v : {0, 1, 5}) {
    absl::Status s = CheckSupportedVersion(v);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << v << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr("this build speaks 2 to 4"));
  }
}

TEST(RecordBodyTest, HeartbeatOfVersion3CarriesProgress) {
  const Heartbeat hb{.sender_time_ns = 123456789,
                     .sent = SequenceNumber(5),
                     .acked = SequenceNumber(3),
                     .progress = 0x0102030405060708};
  const std::vector<uint8_t> body = EncodeHeartbeat(hb, 3);
  ASSERT_EQ(body.size(), kHeartbeatBytes);
  ASSERT_EQ(kHeartbeatBytes, 32u);
  // After the three fields of version 2, little-endian.
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 24, body.end()),
            (std::vector<uint8_t>{8, 7, 6, 5, 4, 3, 2, 1}));
  absl::StatusOr<Heartbeat> back = ParseHeartbeat(body, 3);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, hb);
  // The length is exact for the version: version 2's body, one byte short,
  // one byte more.
  for (size_t n : {size_t{24}, size_t{31}, size_t{33}}) {
    absl::StatusOr<Heartbeat> r = ParseHeartbeat(std::vector<uint8_t>(n), 3);
    EXPECT_TRUE(absl::IsDataLoss(r.status())) << n << ": " << r.status();
    EXPECT_THAT(r.status().message(),
                HasSubstr(absl::StrCat("HEARTBEAT body of ", n,
                                       " bytes (must be 32 in protocol "
                                       "version 3)")));
  }
  std::vector<uint8_t> negative = body;
  negative[7] = 0x80;
  EXPECT_THAT(ParseHeartbeat(negative, 3).status().message(),
              HasSubstr("negative time"));
}

TEST(RecordBodyTest, HeartbeatOfVersion2HasNoProgress) {
  const Heartbeat hb{.sender_time_ns = 123456789,
                     .sent = SequenceNumber(5),
                     .acked = SequenceNumber(3)};
  const std::vector<uint8_t> body = EncodeHeartbeat(hb, 2);
  ASSERT_EQ(body.size(), kHeartbeatV2Bytes);
  ASSERT_EQ(kHeartbeatV2Bytes, 24u);
  absl::StatusOr<Heartbeat> back = ParseHeartbeat(body, 2);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, hb);
  EXPECT_EQ(back->progress, 0u);
  // A version 3 body is refused in version 2, and the other way round.
  absl::StatusOr<Heartbeat> v3 = ParseHeartbeat(EncodeHeartbeat(hb, 3), 2);
  EXPECT_THAT(v3.status().message(),
              HasSubstr("HEARTBEAT body of 32 bytes (must be 24 in protocol "
                        "version 2)"));
  EXPECT_FALSE(ParseHeartbeat(body, 3).ok());
  EXPECT_FALSE(ParseHeartbeat(std::vector<uint8_t>(23), 2).ok());
  std::vector<uint8_t> negative = body;
  negative[7] = 0x80;
  EXPECT_THAT(ParseHeartbeat(negative, 2).status().message(),
              HasSubstr("negative time"));
}

TEST(RecordBodyTest, HelloReplyAndClose) {
  HelloReply r{.version = kProtocolVersion};
  r.proof[5] = 1;
  absl::StatusOr<HelloReply> r2 = ParseHelloReply(EncodeHelloReply(r));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, r);
  EXPECT_FALSE(ParseHelloReply(std::vector<uint8_t>(33)).ok());

  const CloseNotice c{.code = absl::StatusCode::kDataLoss, .reason = "bye"};
  absl::StatusOr<CloseNotice> c2 = ParseClose(EncodeClose(c));
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(*c2, c);
  // Encoding sanitises; parsing refuses what a sanitising encoder never
  // sends.
  absl::StatusOr<CloseNotice> c3 = ParseClose(EncodeClose(
      {.code = absl::StatusCode::kCancelled, .reason = "a\nb\x01"}));
  ASSERT_TRUE(c3.ok());
  EXPECT_EQ(c3->reason, "a?b?");
  std::vector<uint8_t> bad = EncodeClose(c);
  bad[3] = '\n';
  EXPECT_THAT(ParseClose(bad).status().message(), HasSubstr("printable"));
  bad = EncodeClose(c);
  bad[0] = 0;
  EXPECT_THAT(ParseClose(bad).status().message(), HasSubstr("status code 0"));
  bad = EncodeClose(c);
  bad[1] = 9;  // reason length 9, 3 bytes present
  EXPECT_THAT(ParseClose(bad).status().message(),
              HasSubstr("inside its reason"));
  const std::string longer(5000, 'x');
  absl::StatusOr<CloseNotice> cut = ParseClose(
      EncodeClose({.code = absl::StatusCode::kAborted, .reason = longer}));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->reason.size(), kMaxCloseReasonBytes);
}

// A stream of three handshake-style records.
std::vector<uint8_t> Stream() {
  std::vector<uint8_t> out;
  AppendPlainRecord(
      RecordType::kHello,
      EncodeHello({.versions = {2}, .receive_window_bytes = 1 << 20}), out);
  AppendPlainRecord(RecordType::kHelloReply, EncodeHelloReply({.version = 2}),
                    out);
  AppendPlainRecord(RecordType::kClose,
                    EncodeClose({.code = absl::StatusCode::kCancelled}), out);
  return out;
}

absl::Status Drain(RecordDecoder& d, std::vector<RawRecord>& out) {
  while (true) {
    absl::StatusOr<std::optional<RawRecord>> r = d.Next();
    if (!r.ok()) return r.status();
    if (!r->has_value()) return absl::OkStatus();
    out.push_back(std::move(**r));
  }
}

TEST(RecordDecoderTest, AnyChunkingGivesTheSameRecords) {
  const std::vector<uint8_t> stream = Stream();
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    RecordDecoder d;
    std::vector<RawRecord> got;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      d.Feed(
          std::span(stream).subspan(at, std::min(chunk, stream.size() - at)));
      ASSERT_TRUE(Drain(d, got).ok());
    }
    ASSERT_TRUE(d.Finish().ok());
    ASSERT_EQ(got.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(got[0].header.type, RecordType::kHello);
    EXPECT_EQ(got[1].header.type, RecordType::kHelloReply);
    EXPECT_EQ(got[2].header.type, RecordType::kClose);
    EXPECT_EQ(got[2].index, 2u);
    EXPECT_EQ(got[1].offset, got[0].body.size() + kRecordHeaderBytes);
    EXPECT_EQ(d.offset(), stream.size());
  }
}

TEST(RecordDecoderTest, TruncationSaysWhereTheStreamEnded) {
  const std::vector<uint8_t> stream = Stream();
  RecordDecoder d;
  d.Feed(std::span(stream).first(7));
  std::vector<RawRecord> got;
  ASSERT_TRUE(Drain(d, got).ok());
  absl::Status s = d.Finish();
  EXPECT_TRUE(absl::IsOutOfRange(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("inside its header (7 of 16 bytes)"));

  RecordDecoder d2;
  d2.Feed(std::span(stream).first(20));
  ASSERT_TRUE(Drain(d2, got).ok());
  s = d2.Finish();
  EXPECT_THAT(s.message(), HasSubstr("inside its HELLO body (4 of"));
}

TEST(RecordDecoderTest, ForeignBytesAreRefusedAtOnce) {
  RecordDecoder d;
  const std::string http = "GET / HTTP/1.1\r\n";
  d.Feed({reinterpret_cast<const uint8_t*>(http.data()), 1});
  absl::StatusOr<std::optional<RawRecord>> r = d.Next();
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  EXPECT_THAT(r.status().message(),
              HasSubstr("does not speak the ftvm log channel protocol"));
  EXPECT_THAT(r.status().message(), HasSubstr("record 0 at byte 0"));
  // Sticky.
  EXPECT_EQ(d.Next().status(), r.status());
  EXPECT_EQ(d.Finish(), r.status());
}

TEST(RecordDecoderTest, OversizedLengthRefusedBeforeBuffering) {
  std::vector<uint8_t> stream = Stream();
  const size_t second = kRecordHeaderBytes + stream[4];
  stream[second + 7] = 0x7f;  // HELLO_REPLY length ~2 GiB
  RecordDecoder d;
  d.Feed(std::span(stream).first(second + kRecordHeaderBytes));
  std::vector<RawRecord> got;
  absl::Status s = Drain(d, got);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("record 1 at byte"));
  EXPECT_THAT(s.message(), HasSubstr("exceeds its bound"));
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(RecordDecoderTest, GarbageAfterGoodRecordsSaysCorrupt) {
  std::vector<uint8_t> stream = Stream();
  stream.push_back('Z');
  RecordDecoder d;
  d.Feed(stream);
  std::vector<RawRecord> got;
  absl::Status s = Drain(d, got);
  EXPECT_EQ(got.size(), 3u);
  EXPECT_THAT(s.message(), HasSubstr("corrupt from here on"));
}

}  // namespace
}  // namespace ft::logchannel
