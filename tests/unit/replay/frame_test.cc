// Tests for replay/frame.h: the frame layout, and FrameDecoder on streams
// split at every byte, truncated, corrupted, oversized and foreign.
#include "replay/frame.h"

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/crc32c.h"

namespace ft::replay {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> Payload(size_t n, uint8_t seed) {
  std::vector<uint8_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = uint8_t(seed + i * 13);
  return p;
}

// Three frames: 40 bytes, empty, 1000 bytes.
std::vector<std::vector<uint8_t>> Payloads() {
  return {Payload(40, 1), {}, Payload(1000, 9)};
}

std::vector<uint8_t> Stream(const std::vector<std::vector<uint8_t>>& payloads) {
  std::vector<uint8_t> out;
  for (const auto& p : payloads) AppendFrame(p, out);
  return out;
}

// Drains every whole frame from `d`; the status of the last Next (OK if it
// returned nullopt).
absl::Status Drain(FrameDecoder& d, std::vector<Frame>& out) {
  while (true) {
    absl::StatusOr<std::optional<Frame>> f = d.Next();
    if (!f.ok()) return f.status();
    if (!f->has_value()) return absl::OkStatus();
    out.push_back(std::move(**f));
  }
}

void ExpectFrames(const std::vector<Frame>& got,
                  const std::vector<std::vector<uint8_t>>& want) {
  ASSERT_EQ(got.size(), want.size());
  uint64_t offset = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].index, i);
    EXPECT_EQ(got[i].offset, offset);
    EXPECT_EQ(got[i].payload, want[i]) << "frame " << i;
    offset += kFrameHeaderBytes + want[i].size();
  }
}

TEST(FrameTest, LayoutIsMagicLengthCrcPayload) {
  const std::vector<uint8_t> payload = {1, 2, 3, 4, 5};
  std::vector<uint8_t> out;
  AppendFrame(payload, out);
  ASSERT_EQ(out.size(), kFrameHeaderBytes + payload.size());
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 4),
            (std::vector<uint8_t>{'F', 'T', 'L', 'F'}));
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 4, out.begin() + 8),
            (std::vector<uint8_t>{5, 0, 0, 0}));
  const uint32_t crc = Crc32c(payload);
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 8, out.begin() + 12),
            (std::vector<uint8_t>{uint8_t(crc), uint8_t(crc >> 8),
                                  uint8_t(crc >> 16), uint8_t(crc >> 24)}));
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 12, out.end()), payload);
}

TEST(FrameDecoderTest, WholeStreamAtOnce) {
  FrameDecoder d;
  d.Feed(Stream(Payloads()));
  std::vector<Frame> got;
  ASSERT_TRUE(Drain(d, got).ok());
  ExpectFrames(got, Payloads());
  EXPECT_TRUE(d.Finish().ok());
  EXPECT_EQ(d.frames(), 3u);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoderTest, OneByteAtATime) {
  const std::vector<uint8_t> stream = Stream(Payloads());
  FrameDecoder d;
  std::vector<Frame> got;
  for (size_t i = 0; i < stream.size(); ++i) {
    d.Feed(std::span<const uint8_t>(&stream[i], 1));
    const size_t before = got.size();
    ASSERT_TRUE(Drain(d, got).ok()) << "at byte " << i;
    // A frame comes out exactly when its last byte arrives.
    uint64_t end = 0;
    size_t frames_done = 0;
    for (const auto& p : Payloads()) {
      end += kFrameHeaderBytes + p.size();
      if (end <= i + 1) ++frames_done;
    }
    EXPECT_EQ(got.size(), frames_done) << "at byte " << i;
    if (got.size() == before && i + 1 < stream.size()) {
      EXPECT_FALSE(d.Finish().ok()) << "mid-frame at byte " << i;
    }
  }
  ExpectFrames(got, Payloads());
  EXPECT_TRUE(d.Finish().ok());
}

TEST(FrameDecoderTest, EverySplitIntoTwoChunks) {
  const std::vector<uint8_t> stream = Stream(Payloads());
  const std::span<const uint8_t> all(stream);
  for (size_t split = 0; split <= stream.size(); ++split) {
    FrameDecoder d;
    std::vector<Frame> got;
    d.Feed(all.first(split));
    ASSERT_TRUE(Drain(d, got).ok());
    d.Feed(all.subspan(split));
    ASSERT_TRUE(Drain(d, got).ok());
    ExpectFrames(got, Payloads());
    EXPECT_TRUE(d.Finish().ok()) << "split at " << split;
  }
}

TEST(FrameDecoderTest, TruncatedAtEveryByteOfTheLastFrame) {
  const std::vector<uint8_t> stream = Stream(Payloads());
  const size_t last_start = stream.size() - kFrameHeaderBytes - 1000;
  for (size_t cut = last_start; cut <= stream.size(); ++cut) {
    FrameDecoder d;
    d.Feed(std::span<const uint8_t>(stream).first(cut));
    std::vector<Frame> got;
    ASSERT_TRUE(Drain(d, got).ok()) << "cut at " << cut;
    const absl::Status end = d.Finish();
    if (cut == last_start || cut == stream.size()) {
      // A clean end: on a frame boundary.
      EXPECT_TRUE(end.ok()) << end;
      EXPECT_EQ(got.size(), cut == last_start ? 2u : 3u);
    } else {
      EXPECT_EQ(end.code(), absl::StatusCode::kOutOfRange) << "cut at " << cut;
      EXPECT_THAT(end.message(), HasSubstr("truncated"));
      EXPECT_THAT(end.message(), HasSubstr("frame 2 at byte 64"));
      EXPECT_EQ(got.size(), 2u);  // the whole frames before are intact
    }
  }
}

TEST(FrameDecoderTest, EveryCorruptPayloadOrChecksumByteIsCaught) {
  const std::vector<uint8_t> clean = Stream({Payload(64, 3)});
  for (size_t i = 8; i < clean.size(); ++i) {
    std::vector<uint8_t> bad = clean;
    bad[i] ^= 0x20;
    FrameDecoder d;
    d.Feed(bad);
    absl::StatusOr<std::optional<Frame>> f = d.Next();
    ASSERT_FALSE(f.ok()) << "byte " << i;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(f.status().message(), HasSubstr("checksum mismatch"));
    EXPECT_THAT(f.status().message(), HasSubstr("frame 0 at byte 0"));
  }
}

TEST(FrameDecoderTest, CorruptLengthIsCaught) {
  // A shorter length: the checksum covers different bytes.
  std::vector<uint8_t> bad = Stream({Payload(64, 3), Payload(8, 4)});
  bad[4] = 56;
  FrameDecoder d;
  d.Feed(bad);
  absl::StatusOr<std::optional<Frame>> f = d.Next();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
}

TEST(FrameDecoderTest, OversizedLengthIsRefusedBeforeThePayload) {
  std::vector<uint8_t> header = {'F', 'T', 'L', 'F'};
  const uint32_t length = kMaxFramePayloadBytes + 1;
  for (int i = 0; i < 4; ++i) header.push_back(uint8_t(length >> (8 * i)));
  header.insert(header.end(), 4, 0);
  FrameDecoder d;
  d.Feed(Stream({Payload(8, 1)}));
  d.Feed(header);  // and no payload at all
  std::vector<Frame> got;
  const absl::Status s = Drain(d, got);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("frame 1 at byte 20"));
  EXPECT_THAT(s.message(), HasSubstr("exceeds the bound"));
}

TEST(FrameDecoderTest, LargestFrameIsAccepted) {
  const std::vector<uint8_t> big(kMaxFramePayloadBytes, 0x7e);
  FrameDecoder d;
  d.Feed(Stream({big}));
  std::vector<Frame> got;
  ASSERT_TRUE(Drain(d, got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload.size(), kMaxFramePayloadBytes);
}

TEST(FrameDecoderTest, WrongMagicIsNamedAsNotALog) {
  FrameDecoder d;
  const std::vector<uint8_t> elf = {0x7f, 'E'};  // shorter than a header
  d.Feed(elf);
  absl::StatusOr<std::optional<Frame>> f = d.Next();
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(f.status().message(),
              HasSubstr("bad magic (its byte 0 is 0x7f, not 'F'"));
  EXPECT_THAT(f.status().message(), HasSubstr("not an ftvm execution log"));
}

TEST(FrameDecoderTest, WrongMagicLaterIsCorruption) {
  std::vector<uint8_t> stream = Stream(Payloads());
  stream[64] = 'X';  // frame 2's magic
  FrameDecoder d;
  d.Feed(stream);
  std::vector<Frame> got;
  const absl::Status s = Drain(d, got);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("frame 2 at byte 64: bad magic"));
  EXPECT_THAT(s.message(), HasSubstr("corrupt"));
}

TEST(FrameDecoderTest, ErrorsAreSticky) {
  FrameDecoder d;
  d.Feed(std::vector<uint8_t>{'N', 'O', 'P', 'E'});
  EXPECT_FALSE(d.Next().ok());
  d.Feed(Stream(Payloads()));
  EXPECT_FALSE(d.Next().ok());
  EXPECT_FALSE(d.Finish().ok());
}

}  // namespace
}  // namespace ft::replay
