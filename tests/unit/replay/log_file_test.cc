// Tests for replay/log_file.h and replay/log_decoder.h: logs written and
// read back; truncation at every byte of the last frame; corruption, foreign
// files and too-new logs; checkpoints split across frames and reassembled;
// the order rules on both sides; and the stream decoder fed byte by byte.
#include "replay/log_file.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/file_identity.h"
#include "replay/frame.h"
#include "replay/log_decoder.h"
#include "tests/unit/replay/ftlog_rewrite.h"
#include "tests/unit/replay/log_test_util.h"

namespace ft::replay {
namespace {

using ::testing::HasSubstr;
using namespace ::ft::replay::testing;  // NOLINT: test helpers

class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/log_file_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes `entries` after `header`; returns the file's size before each
  // entry (so the last one is where the last entry's frames begin).
  std::vector<uint64_t> Write(const std::string& path, const LogHeader& header,
                              const std::vector<LogEntry>& entries,
                              size_t pages_per_frame = kMaxPagesPerFrame) {
    absl::StatusOr<LogWriter> w =
        LogWriter::Create({.path = path,
                           .overwrite = true,
                           .encode = {.pages_per_frame = pages_per_frame}},
                          header);
    EXPECT_TRUE(w.ok()) << w.status();
    std::vector<uint64_t> starts;
    if (!w.ok()) return starts;
    for (const LogEntry& e : entries) {
      starts.push_back(w->bytes());
      EXPECT_TRUE(w->Append(e).ok()) << EntryKindName(e);
    }
    EXPECT_TRUE(w->Close().ok());
    return starts;
  }

  static std::vector<uint8_t> ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  }
  static void WriteAll(const std::string& path,
                       std::span<const uint8_t> bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }

  // A log built frame by frame, past the writer's checks.
  static std::vector<uint8_t> RawLog(
      const LogHeader& header,
      const std::vector<std::vector<uint8_t>>& payloads) {
    std::vector<uint8_t> out;
    absl::StatusOr<std::vector<uint8_t>> h = EncodeHeader(header);
    EXPECT_TRUE(h.ok()) << h.status();
    if (h.ok()) AppendFrame(*h, out);
    for (const auto& p : payloads) AppendFrame(p, out);
    return out;
  }
  static std::vector<std::vector<uint8_t>> Payloads(
      const LogEntry& e, size_t pages_per_frame = kMaxPagesPerFrame,
      const GuestConfig& guest = SampleHeader().guest) {
    absl::StatusOr<std::vector<std::vector<uint8_t>>> p =
        EncodeEntry(e, guest,
                    {.pages_per_frame = pages_per_frame,
                     // Tests rewrite pages in place: each with its bytes.
                     .compress_pages = false});
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : std::vector<std::vector<uint8_t>>{};
  }

  // Reads `path` to its end: the entries, and the final status (OK for a
  // clean end).
  static absl::Status ReadEntries(const std::string& path,
                                  std::vector<LogEntry>& out,
                                  LogReader* keep = nullptr) {
    absl::StatusOr<LogReader> r = LogReader::Open(path);
    if (!r.ok()) return r.status();
    while (true) {
      absl::StatusOr<std::optional<LogEntry>> e = r->Next();
      if (!e.ok()) return e.status();
      if (!e->has_value()) break;
      out.push_back(std::move(**e));
    }
    if (keep != nullptr) *keep = *std::move(r);
    return absl::OkStatus();
  }

  std::string dir_;
};

void ExpectError(const absl::Status& s, absl::StatusCode code,
                 const std::string& text) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(text));
}

std::vector<LogEntry> EntriesWithBigCheckpoint() {
  std::vector<LogEntry> entries = SampleEntries();
  // A 10-page checkpoint between the others, split 3 pages a frame below.
  entries.insert(entries.begin() + 7, SampleCheckpoint(10, 10));
  entries.insert(entries.begin() + 8,
                 StateDigest{.at = CheckpointAt(10), .digest = {3, 4}});
  // The end moves past the checkpoint.
  std::get<EndEntry>(entries.back()).at = Pio(12, 0x501);
  std::get<OutputMarker>(entries[9]).at =
      At(11, ExitKind::kIrqWindow, 0, 0x401300);
  return entries;
}

TEST_F(LogFileTest, WrittenLogReadsBack) {
  const std::vector<LogEntry> entries = EntriesWithBigCheckpoint();
  Write(Path("log"), SampleHeader(), entries, /*pages_per_frame=*/3);
  std::vector<LogEntry> got;
  absl::StatusOr<LogReader> r = LogReader::Open(Path("log"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->header(), SampleHeader());
  while (true) {
    absl::StatusOr<std::optional<LogEntry>> e = r->Next();
    ASSERT_TRUE(e.ok()) << e.status();
    if (!e->has_value()) break;
    got.push_back(std::move(**e));
  }
  EXPECT_EQ(got, entries);
  EXPECT_TRUE(r->ended());
  // The end stays the end.
  absl::StatusOr<std::optional<LogEntry>> again = r->Next();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(LogFileTest, CheckpointBeyondOneFrameReadsBack) {
  LogHeader h = SampleHeader();
  h.guest.memory_bytes = uint64_t{3 * kMaxPagesPerFrame} * kPageBytes;
  MicroCheckpoint c = SampleCheckpoint(1, 0);
  for (uint64_t gfn = 0; gfn < 2 * kMaxPagesPerFrame + 5; gfn += 2) {
    c.pages.push_back(SamplePage(gfn));
  }
  Write(Path("big"), h, {c});
  std::vector<LogEntry> got;
  ASSERT_TRUE(ReadEntries(Path("big"), got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], LogEntry(c));
}

TEST_F(LogFileTest, HeaderOnlyLogIsACleanEmptyRun) {
  absl::StatusOr<LogWriter> w =
      LogWriter::Create({.path = Path("empty")}, SampleHeader());
  ASSERT_TRUE(w.ok()) << w.status();
  // The header is on disk before any Flush.
  absl::StatusOr<LogReader> r = LogReader::Open(Path("empty"));
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<std::optional<LogEntry>> e = r->Next();
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_FALSE(e->has_value());
  EXPECT_FALSE(r->ended());  // cut short: no end entry
}

TEST_F(LogFileTest, TruncatedAtEveryByteOfTheLastFrame) {
  const std::vector<LogEntry> entries = SampleEntries();
  const std::vector<uint64_t> starts =
      Write(Path("log"), SampleHeader(), entries);
  const std::vector<uint8_t> whole = ReadAll(Path("log"));
  const size_t last = starts.back();
  for (size_t cut = last; cut <= whole.size(); ++cut) {
    SCOPED_TRACE("cut at byte " + std::to_string(cut));
    WriteAll(Path("cut"), std::span<const uint8_t>(whole).first(cut));
    std::vector<LogEntry> got;
    LogReader reader = *LogReader::Open(Path("log"));
    const absl::Status s = ReadEntries(Path("cut"), got, &reader);
    if (cut == whole.size()) {
      EXPECT_TRUE(s.ok()) << s;
      EXPECT_EQ(got, entries);
      EXPECT_TRUE(reader.ended());
    } else if (cut == last) {
      // A clean end without the end entry: a run cut short.
      EXPECT_TRUE(s.ok()) << s;
      EXPECT_EQ(got.size(), entries.size() - 1);
      EXPECT_FALSE(reader.ended());
    } else {
      ExpectError(s, absl::StatusCode::kOutOfRange, "truncated");
      EXPECT_THAT(std::string(s.message()),
                  HasSubstr("frame " + std::to_string(entries.size()) +
                            " at byte " + std::to_string(last)));
      EXPECT_THAT(std::string(s.message()), HasSubstr(Path("cut")));
      // Every whole entry before the torn one was returned.
      EXPECT_EQ(got.size(), entries.size() - 1);
    }
  }
}

TEST_F(LogFileTest, TruncatedInsideACheckpoint) {
  const MicroCheckpoint c = SampleCheckpoint(5, 10);
  const std::vector<std::vector<uint8_t>> frames = Payloads(c, 3);
  ASSERT_EQ(frames.size(), 4u);
  // All frames whole, but the last continuation missing.
  WriteAll(Path("log"),
           RawLog(SampleHeader(), {frames[0], frames[1], frames[2]}));
  std::vector<LogEntry> got;
  const absl::Status s = ReadEntries(Path("log"), got);
  ExpectError(s, absl::StatusCode::kOutOfRange,
              "ends inside the checkpoint in frame 1");
  EXPECT_THAT(std::string(s.message()), HasSubstr("after 9 of its 10 pages"));
  EXPECT_TRUE(got.empty());
}

TEST_F(LogFileTest, CorruptByteIsAChecksumError) {
  const std::vector<uint64_t> starts =
      Write(Path("log"), SampleHeader(), SampleEntries());
  std::vector<uint8_t> bytes = ReadAll(Path("log"));
  const size_t frame = 3;  // the entry at starts[2] is frame 3
  bytes[starts[2] + kFrameHeaderBytes + 10] ^= 0x04;
  WriteAll(Path("bad"), bytes);
  std::vector<LogEntry> got;
  const absl::Status s = ReadEntries(Path("bad"), got);
  ExpectError(s, absl::StatusCode::kDataLoss, "checksum mismatch");
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("frame " + std::to_string(frame) + " at byte " +
                        std::to_string(starts[2])));
  EXPECT_EQ(got.size(), 2u);
}

TEST_F(LogFileTest, OversizedLengthIsRefused) {
  const std::vector<uint64_t> starts =
      Write(Path("log"), SampleHeader(), SampleEntries());
  std::vector<uint8_t> bytes = ReadAll(Path("log"));
  bytes[starts[1] + 7] = 0x40;  // length += 1 GiB
  WriteAll(Path("bad"), bytes);
  std::vector<LogEntry> got;
  ExpectError(ReadEntries(Path("bad"), got), absl::StatusCode::kDataLoss,
              "exceeds the bound of 33554432 bytes");
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(LogFileTest, ForeignAndEmptyFilesAreRefused) {
  const std::string text = "#!/bin/sh\necho not a log\n";
  WriteAll(
      Path("script"),
      std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  ExpectError(LogReader::Open(Path("script")).status(),
              absl::StatusCode::kDataLoss, "not an ftvm execution log");

  WriteAll(Path("empty"), {});
  ExpectError(LogReader::Open(Path("empty")).status(),
              absl::StatusCode::kOutOfRange, "before its header frame");

  ExpectError(LogReader::Open(Path("missing")).status(),
              absl::StatusCode::kNotFound, "opening log");

  // A header frame cut short.
  const std::vector<uint8_t> log = RawLog(SampleHeader(), {});
  WriteAll(Path("torn"), std::span<const uint8_t>(log).first(log.size() - 1));
  ExpectError(LogReader::Open(Path("torn")).status(),
              absl::StatusCode::kOutOfRange, "truncated");
}

TEST_F(LogFileTest, TooNewLogIsRefusedWithTheVersionNeeded) {
  LogHeader h = SampleHeader();
  h.format_version = kReaderVersion + 1;
  h.min_reader_version = kReaderVersion + 1;
  h.writer = "ftvm 9.0";
  Write(Path("new"), h, {});
  const absl::Status s = LogReader::Open(Path("new")).status();
  ExpectError(
      s, absl::StatusCode::kFailedPrecondition,
      absl::StrFormat("needs reader version %u or newer", kReaderVersion + 1));
  EXPECT_THAT(std::string(s.message()), HasSubstr("frame 0 at byte 0"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("'ftvm 9.0'"));
}

TEST_F(LogFileTest, EntriesAreCheckedAgainstTheHeader) {
  // Entries valid for a larger machine, in the log of a smaller one.
  LogHeader big = SampleHeader();
  big.guest.memory_bytes = 64 << 20;
  big.guest.nics.resize(2);
  MicroCheckpoint c = SampleCheckpoint(1, 0);
  c.pages.push_back(SamplePage(5000));  // beyond 16 MiB
  OutputMarker out{.at = Pio(2), .kind = OutputKind::kNetPacket, .device = 1};
  struct Case {
    LogEntry entry;
    std::string error;
  };
  for (const Case& k : {Case{c, "gfn 0x1388 beyond guest memory (4096 pages)"},
                        Case{out, "device 1 of a guest with 1"}}) {
    SCOPED_TRACE(k.error);
    WriteAll(Path("log"),
             RawLog(SampleHeader(), Payloads(k.entry, 3, big.guest)));
    std::vector<LogEntry> got;
    const absl::Status s = ReadEntries(Path("log"), got);
    ExpectError(s, absl::StatusCode::kInvalidArgument, k.error);
    EXPECT_THAT(std::string(s.message()), HasSubstr("frame 1 at byte"));
    // And the writer does not write them.
    absl::StatusOr<LogWriter> w = LogWriter::Create(
        {.path = Path("w"), .overwrite = true}, SampleHeader());
    ASSERT_TRUE(w.ok());
    ExpectError(w->Append(k.entry), absl::StatusCode::kInvalidArgument,
                k.error);
  }
}

// --- Order rules ---

struct OrderCase {
  const char* name;
  std::vector<LogEntry> entries;  // the last one breaks a rule
  std::string error;
};

std::vector<OrderCase> OrderCases() {
  return {
      {"position goes back",
       {StateDigest{.at = Pio(5)}, StateDigest{.at = Pio(4)}},
       "goes back"},
      {"same count, other exit",
       {StateDigest{.at = Pio(5, 0x3f8)}, StateDigest{.at = Pio(5, 0x3f9)}},
       "differs from earlier entries"},
      {"a checkpoint position opened by another entry",
       {StateDigest{.at = Pio(4)}, StateDigest{.at = CheckpointAt(5)}},
       "is a checkpoint, but its first entry is not the checkpoint"},
      {"two checkpoints at one position",
       {SampleCheckpoint(5, 1), SampleCheckpoint(5, 1)},
       "which earlier entries already used"},
      {"checkpoint at the count of earlier entries",
       {StateDigest{.at = Pio(5)}, SampleCheckpoint(5, 1)},
       "which earlier entries already used"},
      {"entry after the end",
       {EndEntry{.at = Pio(5)}, StateDigest{.at = Pio(6)}},
       "after the end entry"},
  };
}

TEST_F(LogFileTest, WriterRefusesEntriesOutOfOrderAndKeepsGoing) {
  for (const OrderCase& c : OrderCases()) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<LogWriter> w = LogWriter::Create(
        {.path = Path("w"), .overwrite = true}, SampleHeader());
    ASSERT_TRUE(w.ok());
    for (size_t i = 0; i + 1 < c.entries.size(); ++i) {
      ASSERT_TRUE(w->Append(c.entries[i]).ok());
    }
    ExpectError(w->Append(c.entries.back()), absl::StatusCode::kInvalidArgument,
                c.error);
    EXPECT_EQ(w->entries(), c.entries.size() - 1);
    ASSERT_TRUE(w->Close().ok());
    // The refused entry left no trace.
    std::vector<LogEntry> got;
    ASSERT_TRUE(ReadEntries(Path("w"), got).ok());
    EXPECT_EQ(got.size(), c.entries.size() - 1);
  }
}

TEST_F(LogFileTest, ReaderRefusesEntriesOutOfOrder) {
  for (const OrderCase& c : OrderCases()) {
    SCOPED_TRACE(c.name);
    std::vector<std::vector<uint8_t>> frames;
    for (const LogEntry& e : c.entries) {
      for (auto& p : Payloads(e)) frames.push_back(std::move(p));
    }
    WriteAll(Path("r"), RawLog(SampleHeader(), frames));
    std::vector<LogEntry> got;
    const absl::Status s = ReadEntries(Path("r"), got);
    ExpectError(s, absl::StatusCode::kInvalidArgument, c.error);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("frame " + std::to_string(c.entries.size())));
    EXPECT_EQ(got.size(), c.entries.size() - 1);
  }
}

TEST_F(LogFileTest, CheckpointFramesMustAddUp) {
  const MicroCheckpoint c = SampleCheckpoint(5, 10);
  const auto f = Payloads(c, 3);  // head with 3 pages, then 3, 3, 1
  const auto other = Payloads(SampleCheckpoint(6, 10), 3);
  const auto digest = Payloads(StateDigest{.at = CheckpointAt(5)});
  struct Case {
    const char* name;
    std::vector<std::vector<uint8_t>> frames;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"another entry before the last pages",
       {f[0], f[1], f[2], digest[0]},
       "declares 10 pages but only 9 arrived"},
      {"pages without a checkpoint", {f[1]}, "without a checkpoint"},
      {"a page frame twice", {f[0], f[1], f[1]}, "strictly increase"},
      {"more pages than declared",
       {f[0], f[1], f[2], f[3], f[3]},
       "without a checkpoint"},
      {"pages of another position",
       {f[0], other[1]},
       "continue the checkpoint at #5"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    WriteAll(Path("c"), RawLog(SampleHeader(), k.frames));
    std::vector<LogEntry> got;
    ExpectError(ReadEntries(Path("c"), got), absl::StatusCode::kInvalidArgument,
                k.error);
  }
  // The last frame overfilling the checkpoint.
  std::vector<uint8_t> overfull =
      Rewrite<fl::Entry>(f[3], [&](fl::Entry::Builder e) {
        auto pages = e.getCheckpointPages().initPages(2);
        pages[0].setGfn(100);
        pages[0].setBytes(Zeros(kPageBytes));
        pages[1].setGfn(101);
        pages[1].setBytes(Zeros(kPageBytes));
      });
  WriteAll(Path("c"), RawLog(SampleHeader(), {f[0], f[1], f[2], overfull}));
  std::vector<LogEntry> got;
  ExpectError(ReadEntries(Path("c"), got), absl::StatusCode::kInvalidArgument,
              "2 more checkpoint pages after 9 of the 10 declared");
}

TEST_F(LogFileTest, UnknownKindsAreSkippedOnlyIfMarkedSo) {
  const std::vector<uint8_t> digest = Payloads(StateDigest{.at = Pio(2)})[0];
  const std::vector<uint8_t> unknown = Rewrite<fl::Entry>(
      digest, [](fl::Entry::Builder e) { SetDiscriminant<fl::Entry>(e, 77); });
  const std::vector<uint8_t> skippable = Rewrite<fl::Entry>(
      unknown, [](fl::Entry::Builder e) { e.setSkippable(true); });
  const auto end = Payloads(EndEntry{.at = Pio(3)});

  WriteAll(Path("skip"), RawLog(SampleHeader(), {digest, skippable, end[0]}));
  std::vector<LogEntry> got;
  LogReader reader = *LogReader::Open(Path("skip"));
  ASSERT_TRUE(ReadEntries(Path("skip"), got, &reader).ok());
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(reader.skipped(), 1u);
  EXPECT_TRUE(reader.ended());

  WriteAll(Path("refuse"), RawLog(SampleHeader(), {digest, unknown, end[0]}));
  got.clear();
  const absl::Status s = ReadEntries(Path("refuse"), got);
  ExpectError(s, absl::StatusCode::kFailedPrecondition,
              "unknown entry kind (union member) 77");
  EXPECT_THAT(std::string(s.message()), HasSubstr("frame 2 at byte"));
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(LogFileTest, StreamDecoderByteByByteMatchesTheFile) {
  const std::vector<LogEntry> entries = EntriesWithBigCheckpoint();
  Write(Path("log"), SampleHeader(), entries, /*pages_per_frame=*/3);
  const std::vector<uint8_t> bytes = ReadAll(Path("log"));
  LogDecoder d;
  std::vector<LogEntry> got;
  for (size_t i = 0; i < bytes.size(); ++i) {
    d.Feed(std::span<const uint8_t>(&bytes[i], 1));
    while (true) {
      absl::StatusOr<std::optional<LogEntry>> e = d.Next();
      ASSERT_TRUE(e.ok()) << "byte " << i << ": " << e.status();
      if (!e->has_value()) break;
      got.push_back(std::move(**e));
    }
  }
  EXPECT_TRUE(d.Finish().ok());
  EXPECT_EQ(got, entries);
  EXPECT_EQ(d.header(), SampleHeader());
  EXPECT_EQ(d.bytes_decoded(), bytes.size());
  EXPECT_TRUE(d.ended());
}

TEST_F(LogFileTest, WriterRefusesToOverwriteUnlessAsked) {
  Write(Path("log"), SampleHeader(), {});
  ExpectError(LogWriter::Create({.path = Path("log")}, SampleHeader()).status(),
              absl::StatusCode::kAlreadyExists, "remove it first");
  absl::StatusOr<LogWriter> w = LogWriter::Create(
      {.path = Path("log"), .overwrite = true, .sync_on_flush = true},
      SampleHeader());
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->Append(SampleEntries()[0]).ok());
  ASSERT_TRUE(w->Flush().ok());
  ASSERT_TRUE(w->Close().ok());
  EXPECT_FALSE(w->Append(SampleEntries()[1]).ok());  // closed
  std::vector<LogEntry> got;
  ASSERT_TRUE(ReadEntries(Path("log"), got).ok());
  EXPECT_EQ(got.size(), 1u);
}

TEST_F(LogFileTest, WriterRefusesAnInvalidHeader) {
  LogHeader h = SampleHeader();
  h.guest.memory_bytes = 100;
  ExpectError(LogWriter::Create({.path = Path("log")}, h).status(),
              absl::StatusCode::kInvalidArgument, "guest memory of 100");
  EXPECT_FALSE(std::filesystem::exists(Path("log")));
}

TEST_F(LogFileTest, FileIdentityIsSizeAndSha256) {
  const std::string abc = "abc";
  WriteAll(Path("abc"),
           std::span(reinterpret_cast<const uint8_t*>(abc.data()), abc.size()));
  absl::StatusOr<FileIdentity> id = IdentifyFile(Path("abc"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->path, Path("abc"));
  EXPECT_EQ(id->size_bytes, 3u);
  // FIPS 180-2 test vector: SHA-256("abc").
  const std::vector<uint8_t> want = {
      0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
      0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
      0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  EXPECT_EQ(id->sha256, want);
  absl::StatusOr<FileIdentity> unhashed = IdentifyFile(Path("abc"), false);
  ASSERT_TRUE(unhashed.ok());
  EXPECT_TRUE(unhashed->sha256.empty());
  EXPECT_EQ(IdentifyFile(Path("nope")).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ft::replay
