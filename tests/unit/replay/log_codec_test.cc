// Tests for replay/log_codec.h: every header and entry kind round-trips;
// malformed, out-of-bounds and newer-writer messages are refused with the
// right code and a message naming the problem; what a reader must refuse,
// the writer refuses to write.
#include "replay/log_codec.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/replay/ftlog_rewrite.h"
#include "tests/unit/replay/log_test_util.h"

namespace ft::replay {
namespace {

using ::testing::HasSubstr;
using namespace ::ft::replay::testing;  // NOLINT: test helpers

// Uncompressed: tests rewrite pages in place, each with its bytes.
std::vector<uint8_t> EncodeOne(const LogEntry& entry) {
  absl::StatusOr<std::vector<std::vector<uint8_t>>> frames =
      EncodeEntry(entry, SampleHeader().guest, {.compress_pages = false});
  EXPECT_TRUE(frames.ok()) << frames.status();
  if (!frames.ok()) return {};
  EXPECT_EQ(frames->size(), 1u);
  return frames->front();
}

std::vector<uint8_t> SampleHeaderPayload() {
  absl::StatusOr<std::vector<uint8_t>> p = EncodeHeader(SampleHeader());
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : std::vector<uint8_t>{};
}

void ExpectError(const absl::Status& s, absl::StatusCode code,
                 const std::string& text) {
  EXPECT_EQ(s.code(), code) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(text));
}

// --- Round trips ---

TEST(LogCodecTest, HeaderRoundTrips) {
  const LogHeader h = SampleHeader();
  absl::StatusOr<LogHeader> back = DecodeHeader(SampleHeaderPayload());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, h);
  EXPECT_TRUE(std::holds_alternative<BootFromKernel>(back->initial_state));
}

TEST(LogCodecTest, SnapshotHeaderRoundTrips) {
  LogHeader h = SampleHeader();
  h.initial_state = SnapshotRef{.path = "/snap/vm1.ftsnap",
                                .sha256 = std::vector<uint8_t>(32, 7)};
  h.guest.kernel = {};  // a snapshot needs no kernel
  h.guest.vcpus = 4;
  absl::StatusOr<std::vector<uint8_t>> p = EncodeHeader(h);
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<LogHeader> back = DecodeHeader(*p);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, h);
}

TEST(LogCodecTest, EveryEntryKindRoundTrips) {
  for (const LogEntry& entry : SampleEntries()) {
    SCOPED_TRACE(EntryKindName(entry));
    absl::StatusOr<LogEntry> back =
        DecodeEntry(EncodeOne(entry), SampleHeader().guest);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, entry);
  }
}

TEST(LogCodecTest, OptionalPartsRoundTripAbsent) {
  EndEntry end{.at = At(3, ExitKind::kShutdown, 0, 0x1000),
               .reason = EndReason::kShutdown};
  absl::StatusOr<LogEntry> back =
      DecodeEntry(EncodeOne(end), SampleHeader().guest);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, LogEntry(end));
  EXPECT_FALSE(std::get<EndEntry>(*back).final_digest.has_value());

  MicroCheckpoint c = SampleCheckpoint(5, 0);
  c.vcpus[0].xsave.clear();
  c.vcpus[0].xcrs.clear();
  c.vcpus[0].events.clear();
  c.vcpus[0].msrs.clear();
  back = DecodeEntry(EncodeOne(c), SampleHeader().guest);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, LogEntry(c));
}

TEST(LogCodecTest, LargeCheckpointIsSplitIntoFrames) {
  const MicroCheckpoint c = SampleCheckpoint(5, 10);
  absl::StatusOr<std::vector<std::vector<uint8_t>>> frames =
      EncodeEntry(c, SampleHeader().guest, {.pages_per_frame = 3});
  ASSERT_TRUE(frames.ok()) << frames.status();
  ASSERT_EQ(frames->size(), 4u);  // 3 + 3 + 3 + 1 pages

  absl::StatusOr<LogRecord> head =
      DecodeRecord((*frames)[0], SampleHeader().guest);
  ASSERT_TRUE(head.ok()) << head.status();
  const auto& h = std::get<CheckpointHead>(*head);
  EXPECT_EQ(h.total_pages, 10u);
  EXPECT_EQ(h.checkpoint.pages.size(), 3u);
  EXPECT_EQ(h.checkpoint.vcpus, c.vcpus);
  std::vector<DirtyPage> pages = h.checkpoint.pages;
  for (size_t i = 1; i < 4; ++i) {
    absl::StatusOr<LogRecord> more =
        DecodeRecord((*frames)[i], SampleHeader().guest);
    ASSERT_TRUE(more.ok()) << more.status();
    const auto& m = std::get<CheckpointPages>(*more);
    EXPECT_EQ(m.at, c.at);
    pages.insert(pages.end(), m.pages.begin(), m.pages.end());
  }
  EXPECT_EQ(pages, c.pages);

  ExpectError(DecodeEntry((*frames)[0], SampleHeader().guest).status(),
              absl::StatusCode::kFailedPrecondition, "use LogDecoder");
  ExpectError(DecodeEntry((*frames)[1], SampleHeader().guest).status(),
              absl::StatusCode::kFailedPrecondition, "continuation");
}

MicroCheckpoint SampleFullCheckpoint() {
  MicroCheckpoint c = SampleCheckpoint(5, 10);
  c.full = true;
  c.halted = true;
  c.devices = {{.name = "pic-8259", .state = {1, 2, 3}},
               {.name = "virtio-mmio@0xd0000000", .state = {}},
               {.name = "pit-8254", .state = std::vector<uint8_t>(300, 9)}};
  return c;
}

TEST(LogCodecTest, FullCheckpointRoundTripsAcrossFrames) {
  const MicroCheckpoint c = SampleFullCheckpoint();
  absl::StatusOr<std::vector<std::vector<uint8_t>>> frames =
      EncodeEntry(c, SampleHeader().guest, {.pages_per_frame = 3});
  ASSERT_TRUE(frames.ok()) << frames.status();
  ASSERT_EQ(frames->size(), 4u);
  absl::StatusOr<LogRecord> head =
      DecodeRecord((*frames)[0], SampleHeader().guest);
  ASSERT_TRUE(head.ok()) << head.status();
  const MicroCheckpoint& h = std::get<CheckpointHead>(*head).checkpoint;
  EXPECT_TRUE(h.full);
  EXPECT_TRUE(h.halted);
  EXPECT_EQ(h.devices, c.devices);
  // A micro-checkpoint stays one: the new fields are absent.
  absl::StatusOr<LogEntry> micro =
      DecodeEntry(EncodeOne(SampleCheckpoint(5, 2)), SampleHeader().guest);
  ASSERT_TRUE(micro.ok()) << micro.status();
  EXPECT_FALSE(std::get<MicroCheckpoint>(*micro).full);
  EXPECT_TRUE(std::get<MicroCheckpoint>(*micro).devices.empty());
}

TEST(LogCodecTest, FullCheckpointDevicesAreChecked) {
  auto refused = [](std::function<void(MicroCheckpoint&)> edit,
                    const std::string& text) {
    MicroCheckpoint c = SampleFullCheckpoint();
    edit(c);
    absl::StatusOr<std::vector<std::vector<uint8_t>>> frames =
        EncodeEntry(c, SampleHeader().guest, {});
    ExpectError(frames.status(), absl::StatusCode::kInvalidArgument, text);
  };
  refused([](auto& c) { c.full = false; }, "not full");
  refused([](auto& c) { c.devices[1].name.clear(); }, "name of 0 bytes");
  refused([](auto& c) { c.devices[1].name = std::string(65, 'd'); },
          "name of 65 bytes");
  refused([](auto& c) { c.devices[2].name = "pic-8259"; }, "appears twice");
  refused([](auto& c) { c.devices.resize(65, {.name = "x"}); }, "65 devices");
  refused([](auto& c) { c.devices[2].state.resize((1 << 20) + 1); },
          "bytes of device state");
}

TEST(LogCodecTest, FullFrameOfPagesFits) {
  LogHeader h = SampleHeader();
  h.guest.memory_bytes = uint64_t{2 * kMaxPagesPerFrame} * kPageBytes;
  MicroCheckpoint c = SampleCheckpoint(1, 0);
  for (uint64_t gfn = 0; gfn < kMaxPagesPerFrame + 1; ++gfn) {
    c.pages.push_back(
        DirtyPage{.gfn = gfn, .bytes = std::vector<uint8_t>(kPageBytes, 1)});
  }
  absl::StatusOr<std::vector<std::vector<uint8_t>>> frames =
      EncodeEntry(c, h.guest);
  ASSERT_TRUE(frames.ok()) << frames.status();
  ASSERT_EQ(frames->size(), 2u);
  EXPECT_LT((*frames)[0].size(), size_t{20} << 20);
}

// --- The writer refuses what a reader would refuse ---

struct EntryCase {
  const char* name;
  LogEntry entry;
  std::string error;
};

TEST(LogCodecTest, EncoderRefusesEntriesOutOfBounds) {
  auto checkpoint = [](std::function<void(MicroCheckpoint&)> edit) {
    MicroCheckpoint c = SampleCheckpoint(5, 3);
    edit(c);
    return LogEntry(c);
  };
  const std::vector<EntryCase> cases = {
      {"gfn beyond memory", checkpoint([](auto& c) { c.pages[2].gfn = 4096; }),
       "beyond guest memory"},
      {"4095-byte page",
       checkpoint([](auto& c) { c.pages[1].bytes.resize(4095); }),
       "4095 bytes (must be 4096)"},
      {"gfns out of order",
       checkpoint([](auto& c) { std::swap(c.pages[0], c.pages[1]); }),
       "strictly increase"},
      {"duplicate gfn",
       checkpoint([](auto& c) { c.pages[1].gfn = c.pages[0].gfn; }),
       "strictly increase"},
      {"short kvm_regs",
       checkpoint([](auto& c) { c.vcpus[0].regs.resize(143); }),
       "kvm_regs of 143 bytes"},
      {"short kvm_sregs", checkpoint([](auto& c) { c.vcpus[0].sregs.clear(); }),
       "kvm_sregs of 0 bytes"},
      {"odd xsave", checkpoint([](auto& c) { c.vcpus[0].xsave.resize(100); }),
       "kvm_xsave of 100 bytes (must be 4096, or empty)"},
      {"too many MSRs",
       checkpoint([](auto& c) { c.vcpus[0].msrs.resize(kMaxMsrs + 1); }),
       "1025 MSRs"},
      {"two vCPUs for one",
       checkpoint([](auto& c) { c.vcpus.push_back(c.vcpus[0]); }),
       "2 vCPU states for a guest with 1"},
      {"RIP mismatch", checkpoint([](auto& c) { c.at.exit.rip = 0x1234; }),
       "RIP 0x402000 differs"},
      {"checkpoint at a pio position",
       checkpoint([](auto& c) { c.at = Pio(5); }), "kind must be checkpoint"},
      {"event data too large",
       AsyncEventEntry{.at = Pio(1),
                       .data = std::vector<uint8_t>(kMaxEventDataBytes + 1)},
       "16777217 bytes of data"},
      {"exit count 0 at a pio", StateDigest{.at = At(0, ExitKind::kPio, 1, 2)},
       "exit count 0 is the start"},
      {"start at count 3", StateDigest{.at = At(3, ExitKind::kStart, 0, 0)},
       "exit count 0 is the start"},
      {"hlt with an address", StateDigest{.at = At(3, ExitKind::kHlt, 8, 0)},
       "has no address"},
      {"net output of a missing NIC",
       OutputMarker{.at = Pio(2), .kind = OutputKind::kNetPacket, .device = 1},
       "device 1 of a guest with 1"},
      {"disk output of a missing disk",
       OutputMarker{.at = Pio(2), .kind = OutputKind::kDiskWrite, .device = 4},
       "device 4 of a guest with 1"},
      {"end detail too long",
       EndEntry{.at = Pio(2), .detail = std::string(kMaxDetailBytes + 1, 'x')},
       "detail of 4097 bytes"},
      {"a clock read at a shutdown",
       SyncInput{.at = At(2, ExitKind::kShutdown, 0, 0)}, "shutdown position"},
  };
  for (const EntryCase& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectError(EncodeEntry(c.entry, SampleHeader().guest).status(),
                absl::StatusCode::kInvalidArgument, c.error);
  }
  ExpectError(EncodeEntry(SyncInput{.at = At(1, ExitKind::kPio, 0x10000, 0)},
                          SampleHeader().guest)
                  .status(),
              absl::StatusCode::kInvalidArgument, "port above 0xffff");
  ExpectError(EncodeEntry(SampleCheckpoint(1, 1), SampleHeader().guest,
                          {.pages_per_frame = 0})
                  .status(),
              absl::StatusCode::kInvalidArgument, "pages per frame");
}

struct HeaderCase {
  const char* name;
  std::function<void(LogHeader&)> edit;
  std::string error;
};

const std::vector<HeaderCase>& HeaderCases() {
  static const auto* cases = new std::vector<HeaderCase>{
      {"memory not whole pages", [](auto& h) { h.guest.memory_bytes = 4097; },
       "guest memory of 4097"},
      {"no memory", [](auto& h) { h.guest.memory_bytes = 0; },
       "guest memory of 0"},
      {"memory above 1 TiB",
       [](auto& h) { h.guest.memory_bytes = (uint64_t{1} << 40) + 4096; },
       "at most 1099511627776"},
      {"no vCPU", [](auto& h) { h.guest.vcpus = 0; }, "0 vCPUs"},
      {"65 vCPUs", [](auto& h) { h.guest.vcpus = 65; }, "65 vCPUs"},
      {"short kernel hash", [](auto& h) { h.guest.kernel.sha256.resize(31); },
       "kernel: sha256 of 31 bytes (must be 32)"},
      {"no kernel path", [](auto& h) { h.guest.kernel.path.clear(); },
       "kernel: empty path"},
      {"NUL in a path", [](auto& h) { h.guest.kernel.path += '\0'; }, "NUL"},
      {"odd disk hash",
       [](auto& h) { h.guest.disks[0].image.sha256.resize(5); },
       "disk 0: sha256 of 5 bytes (must be 32, or empty)"},
      {"disk without path",
       [](auto& h) { h.guest.disks[0].image.path.clear(); },
       "disk 0: empty path"},
      {"17 disks", [](auto& h) { h.guest.disks.resize(17, h.guest.disks[0]); },
       "17 disks"},
      {"long command line", [](auto& h) { h.guest.cmdline.assign(4097, 'a'); },
       "command line of 4097 bytes"},
      {"257 CPUID entries", [](auto& h) { h.guest.cpuid.resize(257); },
       "257 CPUID entries"},
      {"no latency bound", [](auto& h) { h.latency_bound_ns = 0; },
       "latency bound of 0 ns"},
      {"minReaderVersion 0", [](auto& h) { h.min_reader_version = 0; },
       "minReaderVersion 0"},
      {"formatVersion below minReaderVersion",
       [](auto& h) {
         h.format_version = 1;
         h.min_reader_version = 2;
       },
       "formatVersion 1 below minReaderVersion 2"},
      {"snapshot without hash",
       [](auto& h) { h.initial_state = SnapshotRef{.path = "/s"}; },
       "snapshot: sha256 of 0 bytes"},
  };
  return *cases;
}

TEST(LogCodecTest, EncoderRefusesHeadersOutOfBounds) {
  for (const HeaderCase& c : HeaderCases()) {
    SCOPED_TRACE(c.name);
    LogHeader h = SampleHeader();
    c.edit(h);
    ExpectError(EncodeHeader(h).status(), absl::StatusCode::kInvalidArgument,
                c.error);
  }
}

// --- The reader refuses what the writer would not write ---

TEST(LogCodecTest, DecoderRefusesHeadersOutOfBounds) {
  // Encoded with the generated API directly, past the encoder's checks.
  const std::vector<uint8_t> good = SampleHeaderPayload();
  struct Case {
    const char* name;
    std::function<void(fl::Header::Builder)> edit;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"memory not whole pages",
       [](auto h) { h.getGuest().setMemoryBytes(4097); },
       "guest memory of 4097"},
      {"no vCPU", [](auto h) { h.getGuest().setVcpus(0); }, "0 vCPUs"},
      {"short kernel hash",
       [](auto h) { h.getGuest().getKernel().setSha256(Zeros(31)); },
       "kernel: sha256 of 31 bytes"},
      {"5-byte MAC", [](auto h) { h.getGuest().getNics()[0].setMac(Zeros(5)); },
       "NIC 0: MAC of 5 bytes"},
      {"100000 CPUID entries", [](auto h) { h.getGuest().initCpuid(100000); },
       "100000 CPUID entries"},
      {"latency bound above 10 s",
       [](auto h) { h.setLatencyBoundNs(10'000'000'001); },
       "latency bound of 10000000001 ns"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectError(DecodeHeader(Rewrite<fl::Header>(good, c.edit)).status(),
                absl::StatusCode::kInvalidArgument, c.error);
  }
}

TEST(LogCodecTest, CompressedCheckpointPagesRoundTripAndAreChecked) {
  MicroCheckpoint c = SampleCheckpoint(7, 5);
  for (size_t i = 0; i < c.pages.size(); ++i) {
    // Compressible, and different per page.
    std::fill(c.pages[i].bytes.begin(), c.pages[i].bytes.end(),
              static_cast<uint8_t>(i + 1));
  }
  auto frames = EncodeEntry(c, SampleHeader().guest, {.pages_per_frame = 3});
  ASSERT_TRUE(frames.ok()) << frames.status();
  ASSERT_EQ(frames->size(), 2u);
  auto plain = EncodeEntry(c, SampleHeader().guest,
                           {.pages_per_frame = 3, .compress_pages = false});
  ASSERT_TRUE(plain.ok()) << plain.status();
  // Three pages of one repeated byte each shrink to next to nothing.
  EXPECT_LT((*frames)[0].size() + 3 * kPageBytes - 256, (*plain)[0].size());
  auto head = DecodeRecord((*frames)[0], SampleHeader().guest);
  ASSERT_TRUE(head.ok()) << head.status();
  const auto& cp = std::get<CheckpointHead>(*head).checkpoint;
  ASSERT_EQ(cp.pages.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(cp.pages[i], c.pages[i]);
  auto more = DecodeRecord((*frames)[1], SampleHeader().guest);
  ASSERT_TRUE(more.ok()) << more.status();
  const auto& rest = std::get<CheckpointPages>(*more).pages;
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[1], c.pages[4]);

  // A frame that declares another size, or does not decompress.
  ExpectError(DecodeRecord(Rewrite<fl::Entry>((*frames)[0],
                                              [](fl::Entry::Builder e) {
                                                e.getCheckpoint().initPages(2);
                                              }),
                           SampleHeader().guest)
                  .status(),
              absl::StatusCode::kDataLoss, "2 pages need 8192");
  ExpectError(
      DecodeRecord(Rewrite<fl::Entry>((*frames)[0],
                                      [](fl::Entry::Builder e) {
                                        auto z =
                                            e.getCheckpoint().getPagesZstd();
                                        z[z.size() - 1] ^= 0xff;
                                      }),
                   SampleHeader().guest)
          .status(),
      absl::StatusCode::kDataLoss, "do not decompress");
}

TEST(LogCodecTest, DecoderRefusesTooNewMinReaderVersion) {
  LogHeader h = SampleHeader();
  h.format_version = kReaderVersion + 2;
  h.min_reader_version = kReaderVersion + 1;
  absl::StatusOr<std::vector<uint8_t>> p = EncodeHeader(h);
  ASSERT_TRUE(p.ok()) << p.status();
  const absl::Status s = DecodeHeader(*p).status();
  ExpectError(
      s, absl::StatusCode::kFailedPrecondition,
      absl::StrFormat("needs reader version %u or newer", kReaderVersion + 1));
  EXPECT_THAT(
      std::string(s.message()),
      HasSubstr(absl::StrFormat("reads up to version %u", kReaderVersion)));
  EXPECT_THAT(std::string(s.message()), HasSubstr("'ftvm test'"));

  // Checked before anything else: even fields this reader would refuse do
  // not hide the version problem.
  ExpectError(DecodeHeader(Rewrite<fl::Header>(*p,
                                               [](fl::Header::Builder b) {
                                                 b.getGuest().setMemoryBytes(1);
                                               }))
                  .status(),
              absl::StatusCode::kFailedPrecondition,
              absl::StrFormat("reader version %u", kReaderVersion + 1));
}

TEST(LogCodecTest, NewerWriterReadableByThisReaderIsAccepted) {
  LogHeader h = SampleHeader();
  h.format_version = 7;  // a newer writer that only added what we may ignore
  h.min_reader_version = kReaderVersion;
  absl::StatusOr<std::vector<uint8_t>> p = EncodeHeader(h);
  ASSERT_TRUE(p.ok());
  absl::StatusOr<LogHeader> back = DecodeHeader(*p);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->format_version, 7u);
}

TEST(LogCodecTest, DecoderRefusesUnknownInitialState) {
  const std::vector<uint8_t> p =
      Rewrite<fl::Header>(SampleHeaderPayload(), [](fl::Header::Builder b) {
        SetDiscriminant<fl::InitialState>(b.getInitialState(), 5);
      });
  ExpectError(DecodeHeader(p).status(), absl::StatusCode::kFailedPrecondition,
              "unknown initial state kind 5");
}

TEST(LogCodecTest, DecoderRefusesEntriesOutOfBounds) {
  const GuestConfig guest = SampleHeader().guest;
  const std::vector<uint8_t> checkpoint = EncodeOne(SampleCheckpoint(5, 3));
  const std::vector<uint8_t> event = EncodeOne(SampleEntries()[3]);
  const std::vector<uint8_t> output = EncodeOne(SampleEntries()[6]);
  struct Case {
    const char* name;
    const std::vector<uint8_t>& payload;
    std::function<void(fl::Entry::Builder)> edit;
    std::string error;
  };
  auto page = [](fl::Entry::Builder e, unsigned i) {
    return e.getCheckpoint().getPages()[i];
  };
  const std::vector<Case> cases = {
      {"gfn beyond memory", checkpoint,
       [&](auto e) { page(e, 2).setGfn(4096); }, "beyond guest memory"},
      {"4095-byte page", checkpoint,
       [&](auto e) { page(e, 1).setBytes(Zeros(4095)); },
       "4095 bytes (must be 4096)"},
      {"gfns out of order", checkpoint, [&](auto e) { page(e, 1).setGfn(1); },
       "strictly increase"},
      {"short kvm_fpu", checkpoint,
       [](auto e) { e.getCheckpoint().getVcpus()[0].setFpu(Zeros(415)); },
       "kvm_fpu of 415 bytes"},
      {"no vCPU state", checkpoint,
       [](auto e) { e.getCheckpoint().initVcpus(0); },
       "0 vCPU states for a guest with 1"},
      {"more pages than memory", checkpoint,
       [](auto e) { e.getCheckpoint().setTotalPages(4097); },
       "4097 dirty pages in a guest of 4096 pages"},
      {"more pages than declared", checkpoint,
       [](auto e) { e.getCheckpoint().setTotalPages(2); },
       "3 pages in its first frame"},
      {"event data too large", event,
       [](auto e) { e.getAsyncEvent().setData(Zeros(kMaxEventDataBytes + 1)); },
       "16777217 bytes of data (at most 16777216)"},
      {"port beyond 16 bits", event,
       [](auto e) {
         e.getPosition().setKind(fl::ExitKind::PIO);
         e.getPosition().setAddress(0x10000);
       },
       "port above 0xffff"},
      {"exit count 0 at a hlt", event,
       [](auto e) { e.getPosition().setExits(0); },
       "exit count 0 is the start"},
      {"output device out of range", output,
       [](auto e) { e.getOutput().setDevice(3); },
       "device 3 of a guest with 1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectError(
        DecodeRecord(Rewrite<fl::Entry>(c.payload, c.edit), guest).status(),
        absl::StatusCode::kInvalidArgument, c.error);
  }
}

TEST(LogCodecTest, DecoderRefusesUnknownEnumerants) {
  const GuestConfig guest = SampleHeader().guest;
  const std::vector<uint8_t> event = EncodeOne(SampleEntries()[3]);
  ExpectError(
      DecodeRecord(Rewrite<fl::Entry>(event,
                                      [](fl::Entry::Builder e) {
                                        e.getPosition().setKind(
                                            static_cast<fl::ExitKind>(99));
                                      }),
                   guest)
          .status(),
      absl::StatusCode::kFailedPrecondition, "unknown exit kind 99");
  const std::vector<uint8_t> end = EncodeOne(SampleEntries().back());
  ExpectError(
      DecodeRecord(Rewrite<fl::Entry>(end,
                                      [](fl::Entry::Builder e) {
                                        e.getEnd().setReason(
                                            static_cast<fl::EndReason>(4));
                                      }),
                   guest)
          .status(),
      absl::StatusCode::kFailedPrecondition, "unknown end reason 4");
}

TEST(LogCodecTest, UnknownEntryKindIsRefusedUnlessSkippable) {
  const GuestConfig guest = SampleHeader().guest;
  const std::vector<uint8_t> digest = EncodeOne(SampleEntries()[0]);
  const std::vector<uint8_t> unknown = Rewrite<fl::Entry>(
      digest, [](fl::Entry::Builder e) { SetDiscriminant<fl::Entry>(e, 42); });
  ExpectError(DecodeRecord(unknown, guest).status(),
              absl::StatusCode::kFailedPrecondition,
              "unknown entry kind (union member) 42");

  const std::vector<uint8_t> skippable = Rewrite<fl::Entry>(
      unknown, [](fl::Entry::Builder e) { e.setSkippable(true); });
  absl::StatusOr<LogRecord> r = DecodeRecord(skippable, guest);
  ASSERT_TRUE(r.ok()) << r.status();
  const auto* skipped = std::get_if<SkippedEntry>(&*r);
  ASSERT_NE(skipped, nullptr);
  EXPECT_EQ(skipped->kind, 42);
  EXPECT_EQ(skipped->at, std::get<StateDigest>(SampleEntries()[0]).at);
}

TEST(LogCodecTest, MalformedMessagesAreDataLoss) {
  const GuestConfig guest = SampleHeader().guest;
  std::vector<uint8_t> p = EncodeOne(SampleEntries()[3]);

  std::vector<uint8_t> odd = p;
  odd.push_back(0);
  ExpectError(DecodeRecord(odd, guest).status(), absl::StatusCode::kDataLoss,
              "whole 8-byte words");
  ExpectError(DecodeRecord({}, guest).status(), absl::StatusCode::kDataLoss,
              "whole 8-byte words");

  std::vector<uint8_t> trailing = p;
  trailing.insert(trailing.end(), 16, 0);
  ExpectError(DecodeRecord(trailing, guest).status(),
              absl::StatusCode::kDataLoss, "16 bytes after the end");

  // A segment table claiming more words than the payload has.
  std::vector<uint8_t> short_segment = p;
  short_segment[4] = 0xff;
  ExpectError(DecodeRecord(short_segment, guest).status(),
              absl::StatusCode::kDataLoss, "malformed message");

  // Every single-byte corruption either decodes to something valid or is
  // refused with a Status: never a crash or an exception.
  for (size_t i = 0; i < p.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80, 0xff}) {
      std::vector<uint8_t> bad = p;
      bad[i] ^= flip;
      absl::StatusOr<LogRecord> r = DecodeRecord(bad, guest);
      if (!r.ok()) {
        EXPECT_NE(r.status().code(), absl::StatusCode::kUnknown);
      }
    }
  }
}

TEST(PositionTest, ToStringNamesKindAddressAndRip) {
  EXPECT_EQ(Pio(12, 0x3f8, 0x401234).ToString(),
            "#12 (pio 0x3f8 at rip 0x401234)");
  EXPECT_EQ(At(3, ExitKind::kHlt, 0, 0x1000).ToString(),
            "#3 (hlt at rip 0x1000)");
  EXPECT_EQ(At(0, ExitKind::kStart, 0, 0).exit.ToString(), "start at rip 0x0");
  EXPECT_EQ(CheckpointAt(9, 0x2000).exit.ToString(),
            "checkpoint at rip 0x2000");
  EXPECT_NE(Pio(1, 0x3f8, 1).exit, Pio(1, 0x3f9, 1).exit);
  EXPECT_LT(Position(1), Position(2));
}

}  // namespace
}  // namespace ft::replay
