// Writes the log decoder fuzz target's seed corpus (format:
// log_decoder_fuzz_input.h): a log with every entry kind, in each of the
// three input modes; every entry kind alone; a checkpoint split across
// frames; and one damaged or newer-writer log per kind of refusal.
//
//   ninja -C build tests/fuzz/make_log_seeds
//   build/tests/fuzz/make_log_seeds tests/fuzz/corpus/log_decoder
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "common/check.h"
#include "replay/frame.h"
#include "replay/log_codec.h"
#include "replay/log_validate.h"
#include "tests/fuzz/log_decoder_fuzz_input.h"
#include "tests/unit/replay/ftlog_rewrite.h"

namespace {

using namespace ft::replay;  // NOLINT: a small tool
using fuzz::FuzzHeader;
using Payloads = std::vector<std::vector<uint8_t>>;

LogPosition At(uint64_t exits, ExitKind kind, uint64_t address, uint64_t rip) {
  return LogPosition{.position = Position(exits),
                     .exit = {.kind = kind, .address = address, .rip = rip}};
}

MicroCheckpoint Checkpoint(uint64_t exits, std::vector<uint64_t> gfns) {
  constexpr uint64_t kRip = 0x1000;
  VcpuState v;
  v.regs.assign(kKvmRegsBytes, 0);
  std::memcpy(v.regs.data() + kKvmRegsRipOffset, &kRip, sizeof(kRip));
  v.sregs.assign(kKvmSregsBytes, 0);
  v.fpu.assign(kKvmFpuBytes, 0);
  v.events.assign(kKvmVcpuEventsBytes, 0);
  v.msrs = {{.index = 0x10, .value = 1}};
  MicroCheckpoint c{.at = At(exits, ExitKind::kCheckpoint, 0, kRip),
                    .vcpus = {v}};
  for (uint64_t gfn : gfns) {
    c.pages.push_back(DirtyPage{
        .gfn = gfn, .bytes = std::vector<uint8_t>(kPageBytes, uint8_t(gfn))});
  }
  return c;
}

std::vector<LogEntry> AllKinds() {
  return {
      StateDigest{.at = At(0, ExitKind::kStart, 0, 0), .digest = {1, 2}},
      SyncInput{
          .at = At(1, ExitKind::kPio, 0x40, 0x1000),
          .value = ClockRead{.source = ClockSource::kMonotonic, .nanos = 1000}},
      SyncInput{.at = At(2, ExitKind::kPio, 0x71, 0x1010),
                .value = ClockRead{.source = ClockSource::kRealtime,
                                   .nanos = 1'700'000'000'000'000'000}},
      AsyncEventEntry{.at = At(3, ExitKind::kHlt, 0, 0x1020),
                      .source = 1,
                      .kind = 1,
                      .data = {0, 0, 0, 0, 0, 0, 0, 1, 0, 'h', 'i'}},
      Checkpoint(4, {2, 9}),
      AsyncEventEntry{.at = At(4, ExitKind::kCheckpoint, 0, 0x1000),
                      .source = 2,
                      .kind = 1,
                      .data = {3, 0, 'a', 'b', 'c'}},
      OutputMarker{.at = At(5, ExitKind::kMmio, 0xd0000050, 0x1030),
                   .kind = OutputKind::kNetPacket,
                   .length = 60,
                   .hash = 0x1234},
      OutputMarker{.at = At(6, ExitKind::kIrqWindow, 0, 0x1040),
                   .kind = OutputKind::kDiskWrite,
                   .length = 512,
                   .hash = 0x5678},
      EndEntry{.at = At(7, ExitKind::kPio, 0x501, 0x1050),
               .reason = EndReason::kGuestExit,
               .exit_code = 0,
               .final_digest = Digest{3, 4},
               .detail = "done"},
  };
}

std::vector<uint8_t> HeaderPayload(const LogHeader& h) {
  absl::StatusOr<std::vector<uint8_t>> p = EncodeHeader(h);
  FT_CHECK_OK(p);
  return *p;
}

Payloads EntryPayloads(const std::vector<LogEntry>& entries) {
  Payloads out;
  for (const LogEntry& e : entries) {
    absl::StatusOr<Payloads> p =
        EncodeEntry(e, FuzzHeader().guest, {.pages_per_frame = 1});
    FT_CHECK_OK(p);
    out.insert(out.end(), p->begin(), p->end());
  }
  return out;
}

std::vector<uint8_t> RawStream(const std::vector<uint8_t>& header,
                               const Payloads& entries) {
  std::vector<uint8_t> out;
  AppendFrame(header, out);
  for (const auto& p : entries) AppendFrame(p, out);
  return out;
}

class Writer {
 public:
  explicit Writer(std::string dir) : dir_(std::move(dir)) {}

  void Write(const std::string& name, fuzz::Mode mode, uint8_t chunk,
             const std::vector<uint8_t>& body) {
    std::vector<uint8_t> input = {mode, chunk};
    input.insert(input.end(), body.begin(), body.end());
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(input.data()),
              static_cast<std::streamsize>(input.size()));
    FT_CHECK(out.good()) << "cannot write " << path;
    ++written_;
  }
  void Raw(const std::string& name, const std::vector<uint8_t>& stream,
           uint8_t chunk = 7) {
    Write(name, fuzz::kRawStream, chunk, stream);
  }
  // kPayloads: header payload first.
  void WithHeader(const std::string& name, const std::vector<uint8_t>& header,
                  const Payloads& entries, uint8_t chunk = 13) {
    std::vector<uint8_t> body;
    fuzz::AppendPayload(header, body);
    for (const auto& p : entries) fuzz::AppendPayload(p, body);
    Write(name, fuzz::kPayloads, chunk, body);
  }
  // kEntryPayloads: FuzzHeader() implied.
  void Entries(const std::string& name, const Payloads& entries,
               uint8_t chunk = 1) {
    std::vector<uint8_t> body;
    for (const auto& p : entries) fuzz::AppendPayload(p, body);
    Write(name, fuzz::kEntryPayloads, chunk, body);
  }
  int written() const { return written_; }

 private:
  std::string dir_;
  int written_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  Writer w(argv[1]);
  const std::vector<uint8_t> header = HeaderPayload(FuzzHeader());
  const Payloads all = EntryPayloads(AllKinds());

  // Valid logs.
  w.Raw("raw_all_kinds", RawStream(header, all));
  w.Raw("raw_header_only", RawStream(header, {}));
  w.WithHeader("payloads_all_kinds", header, all);
  w.Entries("entries_all_kinds", all);
  const std::vector<LogEntry> kinds = AllKinds();
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (std::holds_alternative<MicroCheckpoint>(kinds[i])) continue;
    w.Entries("entry_" + std::to_string(i) + "_" + EntryKindName(kinds[i]),
              EntryPayloads({kinds[i]}), /*chunk=*/3);
  }
  w.Entries("entries_checkpoint_split",
            EntryPayloads({Checkpoint(1, {0, 5, 15})}));
  {
    LogHeader snap = FuzzHeader();
    snap.initial_state =
        SnapshotRef{.path = "/s", .sha256 = std::vector<uint8_t>(32, 2)};
    w.WithHeader("payloads_snapshot_header", HeaderPayload(snap), {});
  }

  // Damaged logs, one per refusal.
  {
    std::vector<uint8_t> s = RawStream(header, all);
    s.resize(s.size() - 5);
    w.Raw("bad_truncated", s);
    s = RawStream(header, all);
    s[s.size() - 3] ^= 1;
    w.Raw("bad_checksum", s);
    s = RawStream(header, all);
    s[header.size() + 12 + 7] = 0x7f;  // frame 1's length
    w.Raw("bad_oversized", s);
    w.Raw("bad_magic", {0x7f, 'E', 'L', 'F', 2, 1, 1, 0});
    // Found by the fuzzer: the message must not depend on the chunking (it
    // named the magic bytes seen so far).
    w.Raw("regress_magic_chunking", {0x7f, 'E', 'L', 'F', 2, 1, 1, 0},
          /*chunk=*/0x3f);
  }
  {
    LogHeader newer = FuzzHeader();
    newer.format_version = 2;
    newer.min_reader_version = 2;
    w.WithHeader("bad_too_new", HeaderPayload(newer), all);
  }
  {
    const Payloads split = EntryPayloads({Checkpoint(1, {0, 5, 15})});
    w.Entries("bad_checkpoint_short", {split[0], split[1], all[0]});
    w.Entries("bad_checkpoint_pages_alone", {split[2]});
  }
  {
    namespace t = ft::replay::testing;
    const std::vector<uint8_t> unknown =
        t::Rewrite<t::fl::Entry>(all[0], [](t::fl::Entry::Builder e) {
          t::SetDiscriminant<t::fl::Entry>(e, 9);
        });
    const std::vector<uint8_t> skippable = t::Rewrite<t::fl::Entry>(
        unknown, [](t::fl::Entry::Builder e) { e.setSkippable(true); });
    w.Entries("newer_kind_skippable", {skippable, all.back()});
    w.Entries("bad_newer_kind", {unknown, all.back()});
    w.Entries(
        "bad_gfn_beyond_memory",
        {t::Rewrite<t::fl::Entry>(EntryPayloads({Checkpoint(1, {3})})[0],
                                  [](t::fl::Entry::Builder e) {
                                    e.getCheckpoint().getPages()[0].setGfn(16);
                                  })});
  }
  std::printf("wrote %d seeds to %s\n", w.written(), argv[1]);
  return 0;
}
