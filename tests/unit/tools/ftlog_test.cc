// The ftlog binary as a user runs it: logs written with replay::LogWriter
// (every entry kind, a checkpoint split across frames, a truncated copy, a
// corrupt copy, a log without an end entry, a file that is not a log) are
// dumped and summarised, and the output lines and exit codes checked. The
// bytes `ftlog stats` charges to each kind are checked against what the
// writer's byte count grew by for each entry.
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "replay/log_file.h"
#include "tests/support/subprocess.h"
#include "tests/unit/replay/log_test_util.h"

namespace ft {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace ::ft::replay;           // NOLINT: test code
using namespace ::ft::replay::testing;  // NOLINT: test helpers

std::string FtlogBin() {
  const char* bin = getenv("FTLOG_BIN");
  return bin != nullptr ? bin : "";
}

::ft::testing::SubprocessResult Ftlog(std::vector<std::string> args) {
  args.insert(args.begin(), FtlogBin());
  auto r = ::ft::testing::RunSubprocess(
      {.argv = args, .timeout = absl::Seconds(60)});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : ::ft::testing::SubprocessResult{};
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// The stats line starting with `label` (the first word), split into words.
std::vector<std::string> Row(const std::string& out, const std::string& label) {
  for (const std::string& line : Lines(out)) {
    std::vector<std::string> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (!words.empty() && words[0] == label) return words;
  }
  ADD_FAILURE() << "no line starting with '" << label << "' in:\n" << out;
  return {};
}

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

uint32_t Le32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 |
         uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}

// Data bytes 0, 1, 2, ... (more than dump shows without --hex).
std::vector<uint8_t> Counting(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i);
  return v;
}

// SampleEntries() (every kind) with more for dump to show: the checkpoint
// at #7 has 5 pages, written 2 to a frame (3 frames), another follows at #8,
// and an event at #11 has more data than dump shows without --hex.
std::vector<LogEntry> Entries() {
  std::vector<LogEntry> entries = SampleEntries();
  entries[4] = SampleCheckpoint(7, 5);
  // After the event at #7, which follows the checkpoint.
  entries.insert(entries.begin() + 6, SampleCheckpoint(8, 1));
  // Before the end entry.
  entries.insert(entries.end() - 1,
                 AsyncEventEntry{.at = At(11, ExitKind::kHlt, 0, 0x401400),
                                 .source = 2,
                                 .kind = 1,
                                 .data = Counting(40)});
  return entries;
}

// SampleHeader() as dump prints it.
std::vector<std::string> HeaderLines() {
  std::string sha;
  for (int i = 0; i < 32; ++i) sha += "ab";
  return {
      absl::StrFormat("header: format %u, min reader %u, writer \"ftvm test\"",
                      replay::kFormatVersion, replay::kMinReaderVersion),
      "guest: memory 16777216 bytes (4096 pages), 1 vcpus, 2 cpuid entries, "
      "cmdline \"workload=hello\"",
      "kernel: \"/boot/ftguest.elf\" 123456 bytes sha256 " + sha,
      "disk 0: \"/var/disk.img\" 1048576 bytes sha256 not computed, read-only",
      "nic 0: mac 52:54:00:12:34:56",
      "initial state: boot from the kernel",
      "latency bound: 2000000 ns",
  };
}

const std::vector<std::string> kEntryLines = {
    "#0 start 0x0 0x0 digest registers=0x1 memory=0x2",
    "#1 pio 0x40 0x401000 clockRead monotonic 123456789",
    "#1 pio 0x40 0x401000 clockRead realtime -5",
    "#4 hlt 0x0 0x401100 asyncEvent source=2 kind=1 length=5 data=0102030405",
    "#7 checkpoint 0x0 0x402000 checkpoint vcpus=1 pages=5 gfns=0x3..0xf "
    "frames=3",
    "#7 checkpoint 0x0 0x402000 asyncEvent source=1 kind=1 length=0",
    "#8 checkpoint 0x0 0x402000 checkpoint vcpus=1 pages=1 gfns=0x3..0x3 "
    "frames=1",
    "#9 mmio 0xd0000050 0x401200 output netPacket device=0 length=60 "
    "hash=0xfeedface",
    "#10 irqWindow 0x0 0x401300 output diskWrite device=0 length=4096 "
    "hash=0xdeadbeef",
    "#11 hlt 0x0 0x401400 asyncEvent source=2 kind=1 length=40 "
    "data=000102030405060708090a0b0c0d0e0f...",
    "#12 pio 0x501 0x401000 end guestExit exit_code=3 registers=0x7 "
    "memory=0x8 detail=\"guest exit\"",
};

class FtlogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(FtlogBin().empty()) << "FTLOG_BIN is not set (run via meson)";
    std::string tmpl = ::testing::TempDir() + "/ftlog_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes `entries`, two checkpoint pages to a frame; records the header
  // frame's size and each entry's offset and size from the writer's count.
  void Write(const std::string& path, const std::vector<LogEntry>& entries) {
    absl::StatusOr<LogWriter> w = LogWriter::Create(
        {.path = path, .encode = {.pages_per_frame = 2}}, SampleHeader());
    ASSERT_TRUE(w.ok()) << w.status();
    header_bytes_ = w->bytes();
    offsets_.clear();
    sizes_.clear();
    for (const LogEntry& e : entries) {
      const uint64_t before = w->bytes();
      ASSERT_TRUE(w->Append(e).ok()) << EntryKindName(e);
      offsets_.push_back(before);
      sizes_.push_back(w->bytes() - before);
    }
    ASSERT_TRUE(w->Close().ok());
  }

  std::string dir_;
  uint64_t header_bytes_ = 0;
  std::vector<uint64_t> offsets_;
  std::vector<uint64_t> sizes_;
};

TEST_F(FtlogTest, TopLevelHelpListsEveryCommand) {
  auto r = Ftlog({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Usage: ftlog COMMAND"));
  EXPECT_THAT(r.out, HasSubstr("  dump "));
  EXPECT_THAT(r.out, HasSubstr("  stats "));
  EXPECT_THAT(r.out, HasSubstr("  replay "));

  auto none = Ftlog({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("Usage: ftlog COMMAND"));

  auto unknown = Ftlog({"rewind", "x"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command 'rewind'"));
}

// Replay itself needs /dev/kvm (tests/kvm); a log it cannot read is refused
// before any machine is built.
TEST_F(FtlogTest, ReplayRefusesWhatIsNotALog) {
  auto missing = Ftlog({"replay", dir_ + "/missing.ftlog"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("missing.ftlog"));
  auto help = Ftlog({"replay", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* s :
       {"Usage: ftlog replay", "--kernel FILE", "divergence", "Exit status"}) {
    EXPECT_THAT(help.out, HasSubstr(s));
  }
}

TEST_F(FtlogTest, SubcommandHelpExplainsOptionsAndExitCodes) {
  auto dump = Ftlog({"dump", "--help"});
  EXPECT_EQ(dump.exit_code, 0);
  for (const char* s : {"Usage: ftlog dump", "--from N", "--to N", "--limit N",
                        "--hex", "Exit status", "  1 ", "  2 "}) {
    EXPECT_THAT(dump.out, HasSubstr(s));
  }
  auto stats = Ftlog({"stats", "--help"});
  EXPECT_EQ(stats.exit_code, 0);
  for (const char* s : {"Usage: ftlog stats FILE", "Exit status", "  1 "}) {
    EXPECT_THAT(stats.out, HasSubstr(s));
  }
}

TEST_F(FtlogTest, UsageErrors) {
  const std::string log = Path("a.ftlog");
  Write(log, Entries());
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"dump"},
           {"stats"},
           {"dump", log, log},
           {"dump", "--from", "x", log},
           {"dump", "--limit", "-1", log},
           {"dump", "--from", "5", "--to", "4", log},
           {"dump", "--bogus", log},
           {"stats", "--hex", log}}) {
    auto r = Ftlog(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr("ftlog ")) << absl::StrJoin(args, " ");
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(FtlogTest, DumpPrintsHeaderAndEveryEntry) {
  const std::string log = Path("a.ftlog");
  Write(log, Entries());
  auto r = Ftlog({"dump", log});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::vector<std::string> want = HeaderLines();
  want.insert(want.end(), kEntryLines.begin(), kEntryLines.end());
  want.push_back(absl::StrCat("end of log: 11 entries in ",
                              std::filesystem::file_size(log),
                              " bytes; the run ended (end entry)"));
  EXPECT_EQ(Lines(r.out), want);
}

TEST_F(FtlogTest, DumpHexShowsAllEventData) {
  const std::string log = Path("a.ftlog");
  Write(log, Entries());
  auto r = Ftlog({"dump", "--hex", "--from=11", "--to", "11", log});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string all;
  for (int i = 0; i < 40; ++i) all += absl::StrFormat("%02x", i);
  EXPECT_THAT(r.out,
              HasSubstr("\n#11 hlt 0x0 0x401400 asyncEvent source=2 kind=1 "
                        "length=40 data=" +
                        all + "\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("...")));
}

TEST_F(FtlogTest, DumpSelectsPositionsAndLimits) {
  const std::string log = Path("a.ftlog");
  Write(log, Entries());
  const size_t header = HeaderLines().size();

  auto range = Ftlog({"dump", "--from", "7", "--to", "9", log});
  EXPECT_EQ(range.exit_code, 0) << range.err;
  std::vector<std::string> lines = Lines(range.out);
  ASSERT_EQ(lines.size(), header + 5) << range.out;
  EXPECT_EQ(lines[header], kEntryLines[4]);
  EXPECT_EQ(lines[header + 1], kEntryLines[5]);
  EXPECT_EQ(lines[header + 2], kEntryLines[6]);
  EXPECT_EQ(lines[header + 3], kEntryLines[7]);
  EXPECT_EQ(lines.back(),
            "stopped past --to 9: 4 entries shown; the rest of the log was "
            "not read");

  auto limit = Ftlog({"dump", "--from", "1", "--limit", "2", log});
  EXPECT_EQ(limit.exit_code, 0) << limit.err;
  lines = Lines(limit.out);
  ASSERT_EQ(lines.size(), header + 3) << limit.out;
  EXPECT_EQ(lines[header], kEntryLines[1]);
  EXPECT_EQ(lines[header + 1], kEntryLines[2]);
  EXPECT_EQ(lines.back(),
            "stopped at --limit 2: 2 entries shown; the rest of the log was "
            "not read");

  // A limit the log does not reach reads it to its end.
  auto tail = Ftlog({"dump", "--from", "12", "--limit", "5", log});
  EXPECT_EQ(tail.exit_code, 0) << tail.err;
  lines = Lines(tail.out);
  ASSERT_EQ(lines.size(), header + 2) << tail.out;
  EXPECT_EQ(lines[header], kEntryLines[10]);
  EXPECT_THAT(lines.back(), HasSubstr("end of log: 11 entries in "));
  EXPECT_THAT(lines.back(), HasSubstr(", 1 shown; the run ended"));
}

TEST_F(FtlogTest, StatsCountsEntriesAndBytesPerKind) {
  const std::string log = Path("a.ftlog");
  const std::vector<LogEntry> entries = Entries();
  Write(log, entries);
  const uint64_t file_bytes = std::filesystem::file_size(log);

  // What each kind should be charged: the writer's count for each entry.
  std::map<std::string, uint64_t> count;
  std::map<std::string, uint64_t> bytes;
  uint64_t entry_bytes = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    ++count[EntryKindName(entries[i])];
    bytes[EntryKindName(entries[i])] += sizes_[i];
    entry_bytes += sizes_[i];
  }
  ASSERT_EQ(header_bytes_ + entry_bytes, file_bytes);

  auto r = Ftlog({"stats", log});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string& out = r.out;
  EXPECT_THAT(Row(out, "bytes:"),
              ElementsAre("bytes:", std::to_string(file_bytes), "=", "header",
                          std::to_string(header_bytes_), "+", "entries",
                          std::to_string(file_bytes - header_bytes_)));
  EXPECT_THAT(Row(out, "entries:"),
              ElementsAre("entries:", "11", "in", "13", "frames"));
  EXPECT_THAT(Row(out, "positions:"),
              ElementsAre("positions:", "#0..#12,", "9", "with", "entries"));
  EXPECT_THAT(Row(out, "end:"),
              ElementsAre("end:", "guestExit", "exit_code=3", "at", "#12"));

  // kind count frames bytes
  const std::map<std::string, uint64_t> frames = {
      {"clockRead", 2}, {"asyncEvent", 3}, {"checkpoint", 4},
      {"digest", 1},    {"output", 2},     {"end", 1}};
  uint64_t sum = 0;
  for (const auto& [kind, n] : frames) {
    EXPECT_THAT(Row(out, kind),
                ElementsAre(kind, std::to_string(count[kind]),
                            std::to_string(n), std::to_string(bytes[kind])));
    const std::vector<std::string> row = Row(out, kind);
    if (row.size() == 4) sum += std::stoull(row[3]);
  }
  EXPECT_EQ(sum, file_bytes - header_bytes_);
  EXPECT_THAT(Row(out, "total"),
              ElementsAre("total", "11", "13",
                          std::to_string(file_bytes - header_bytes_)));

  // Checkpoints: entries 4 (5 pages, 3 frames) and 6 (1 page).
  EXPECT_THAT(Row(out, "checkpoints:"), ElementsAre("checkpoints:", "2"));
  EXPECT_THAT(Row(out, "pages:"),
              ElementsAre("pages:", "total", "6", "mean", "3.0", "max", "5"));
  const uint64_t cp = sizes_[4] + sizes_[6];
  bool found = false;
  for (const std::string& line : Lines(out)) {
    if (line.rfind("  bytes: total ", 0) != 0) continue;
    found = true;
    EXPECT_EQ(line, absl::StrFormat("  bytes: total %u mean %.1f max %u", cp,
                                    static_cast<double>(cp) / 2,
                                    std::max(sizes_[4], sizes_[6])));
  }
  EXPECT_TRUE(found) << out;

  // Async events by (source, kind): (1, 1) once without data; (2, 1) twice
  // with 5 + 40 data bytes.
  EXPECT_THAT(Row(out, "async"), ElementsAre("async", "events:", "3"));
  EXPECT_THAT(Row(out, "1"),
              ElementsAre("1", "1", "1", "0", std::to_string(sizes_[5])));
  EXPECT_THAT(
      Row(out, "2"),
      ElementsAre("2", "1", "2", "45", std::to_string(sizes_[3] + sizes_[9])));
  // Outputs by kind.
  EXPECT_THAT(Row(out, "outputs:"), ElementsAre("outputs:", "2"));
  EXPECT_THAT(Row(out, "netPacket"),
              ElementsAre("netPacket", "1", "60", std::to_string(sizes_[7])));
  EXPECT_THAT(Row(out, "diskWrite"),
              ElementsAre("diskWrite", "1", "4096", std::to_string(sizes_[8])));
}

TEST_F(FtlogTest, TruncatedLogPrintsWhatWasReadThenTheError) {
  const std::string log = Path("a.ftlog");
  Write(log, Entries());
  const std::vector<uint8_t> bytes = ReadAll(log);
  // Into the second frame of the checkpoint at #7 (entry 4).
  const uint64_t second = offsets_[4] + 12 + Le32(bytes, offsets_[4] + 4);
  ASSERT_LT(second + 100, offsets_[5]);
  const std::string cut = Path("cut.ftlog");
  WriteAll(cut,
           std::vector<uint8_t>(bytes.begin(), bytes.begin() + second + 100));

  auto dump = Ftlog({"dump", cut});
  EXPECT_EQ(dump.exit_code, 1);
  std::vector<std::string> want = HeaderLines();
  want.insert(want.end(), kEntryLines.begin(), kEntryLines.begin() + 4);
  EXPECT_EQ(Lines(dump.out), want);
  EXPECT_THAT(dump.err, HasSubstr("ftlog dump: log " + cut));
  EXPECT_THAT(dump.err,
              HasSubstr(absl::StrCat("at byte ", second, ": truncated")));

  // Cut on the frame boundary inside the checkpoint: the decoder names it.
  const std::string boundary = Path("boundary.ftlog");
  WriteAll(boundary,
           std::vector<uint8_t>(bytes.begin(), bytes.begin() + second));
  auto stats = Ftlog({"stats", boundary});
  EXPECT_EQ(stats.exit_code, 1);
  EXPECT_THAT(stats.err, HasSubstr("truncated: the log ends inside the "
                                   "checkpoint"));
  EXPECT_THAT(Row(stats.out, "entries:"),
              ElementsAre("entries:", "4", "in", "4", "frames"));
  EXPECT_THAT(Row(stats.out, "bytes:"),
              ElementsAre("bytes:", std::to_string(second), "=", "header",
                          std::to_string(header_bytes_), "+", "entries",
                          std::to_string(offsets_[4] - header_bytes_), "+",
                          "unread", std::to_string(second - offsets_[4])));
  EXPECT_THAT(stats.out, HasSubstr("end: not reached"));
}

TEST_F(FtlogTest, CorruptLogNamesTheFrame) {
  const std::string log = Path("a.ftlog");
  Write(log, Entries());
  std::vector<uint8_t> bytes = ReadAll(log);
  bytes[offsets_[7] + 12 + 3] ^= 0x40;  // a payload byte of the netPacket
  const std::string bad = Path("bad.ftlog");
  WriteAll(bad, bytes);
  for (const char* command : {"dump", "stats"}) {
    auto r = Ftlog({command, bad});
    EXPECT_EQ(r.exit_code, 1) << command;
    EXPECT_THAT(r.err, HasSubstr(absl::StrCat("at byte ", offsets_[7],
                                              ": checksum mismatch")))
        << command;
  }
  auto dump = Ftlog({"dump", bad});
  std::vector<std::string> want = HeaderLines();
  want.insert(want.end(), kEntryLines.begin(), kEntryLines.begin() + 7);
  EXPECT_EQ(Lines(dump.out), want);
}

TEST_F(FtlogTest, LogWithoutEndEntryIsReadButNoted) {
  const std::string log = Path("cut-short.ftlog");
  std::vector<LogEntry> entries = Entries();
  entries.pop_back();
  Write(log, entries);
  auto dump = Ftlog({"dump", log});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  std::vector<std::string> lines = Lines(dump.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(),
            absl::StrCat("end of log: 10 entries in ",
                         std::filesystem::file_size(log),
                         " bytes; no end entry: the run was cut short (the "
                         "recorder stopped before the guest ended)"));
  auto stats = Ftlog({"stats", log});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_THAT(stats.out,
              HasSubstr("\nend: none: the log has no end entry (the run was "
                        "cut short)\n"));
  EXPECT_THAT(Row(stats.out, "end"), ElementsAre("end", "0", "0", "0"));
}

TEST_F(FtlogTest, MissingFileAndForeignFile) {
  auto missing = Ftlog({"dump", Path("nope.ftlog")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("opening log " + Path("nope.ftlog")));
  EXPECT_THAT(missing.err, HasSubstr("No such file"));
  EXPECT_EQ(missing.out, "");

  const std::string foreign = Path("foreign.txt");
  WriteAll(foreign, {'h', 'e', 'l', 'l', 'o', '\n'});
  auto stats = Ftlog({"stats", foreign});
  EXPECT_EQ(stats.exit_code, 1);
  EXPECT_THAT(stats.err, HasSubstr("not an ftvm execution log"));

  const std::string empty = Path("empty.ftlog");
  WriteAll(empty, {});
  auto dump = Ftlog({"dump", empty});
  EXPECT_EQ(dump.exit_code, 1);
  EXPECT_THAT(dump.err, HasSubstr("truncated"));
}

TEST_F(FtlogTest, HeaderOnlyLog) {
  const std::string log = Path("empty.ftlog");
  Write(log, {});
  auto dump = Ftlog({"dump", log});
  EXPECT_EQ(dump.exit_code, 0) << dump.err;
  std::vector<std::string> want = HeaderLines();
  want.push_back(absl::StrCat("end of log: 0 entries in ", header_bytes_,
                              " bytes; no end entry: the run was cut short "
                              "(the recorder stopped before the guest "
                              "ended)"));
  EXPECT_EQ(Lines(dump.out), want);
  auto stats = Ftlog({"stats", log});
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_THAT(Row(stats.out, "positions:"), ElementsAre("positions:", "none"));
  EXPECT_THAT(Row(stats.out, "total"), ElementsAre("total", "0", "0", "0"));
}

}  // namespace
}  // namespace ft
