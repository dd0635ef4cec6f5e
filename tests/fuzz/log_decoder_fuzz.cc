// Fuzz target for the execution log decoder: framing, the Cap'n Proto codec,
// the bounds checks, checkpoint reassembly and the order rules, on hostile
// bytes (a log file or a log channel peer). Format:
// tests/fuzz/log_decoder_fuzz_input.h.
//
// Besides "no crash, no exception, no sanitizer report", it checks:
//  - chunking does not matter: the stream decoded whole and decoded in small
//    pieces gives the same entries and the same final status;
//  - what the decoder accepts, the encoder reproduces: the header and the
//    entries decoded, re-encoded as a log, decode to the same values.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/check.h"
#include "replay/frame.h"
#include "replay/log_codec.h"
#include "replay/log_decoder.h"
#include "tests/fuzz/log_decoder_fuzz_input.h"

namespace ft::replay {
namespace {

struct Outcome {
  std::optional<LogHeader> header;
  std::vector<LogEntry> entries;
  absl::Status status;  // OK for a clean end
};

// Decodes `stream` fed in pieces of `chunk` bytes.
Outcome Decode(std::span<const uint8_t> stream, size_t chunk) {
  Outcome out;
  LogDecoder decoder;
  size_t at = 0;
  while (true) {
    absl::StatusOr<std::optional<LogEntry>> entry = decoder.Next();
    if (!entry.ok()) {
      out.status = entry.status();
      break;
    }
    if (entry->has_value()) {
      out.entries.push_back(std::move(**entry));
      continue;
    }
    if (at == stream.size()) {
      out.status = decoder.Finish();
      break;
    }
    const size_t n = std::min(chunk, stream.size() - at);
    decoder.Feed(stream.subspan(at, n));
    at += n;
  }
  if (decoder.has_header()) out.header = decoder.header();
  return out;
}

// Re-encodes what was decoded and checks that it decodes to the same.
void CheckReencodes(const Outcome& out) {
  if (!out.header.has_value()) return;
  std::vector<uint8_t> stream;
  absl::StatusOr<std::vector<uint8_t>> header = EncodeHeader(*out.header);
  FT_CHECK_OK(header);
  AppendFrame(*header, stream);
  for (const LogEntry& entry : out.entries) {
    // Small frames, so that checkpoints are split differently from the input.
    absl::StatusOr<std::vector<std::vector<uint8_t>>> frames =
        EncodeEntry(entry, out.header->guest, {.pages_per_frame = 2});
    FT_CHECK_OK(frames);
    for (const auto& f : *frames) AppendFrame(f, stream);
  }
  const Outcome again = Decode(stream, stream.size());
  FT_CHECK(again.status.ok()) << again.status.ToString();
  FT_CHECK(again.header == out.header) << "header changed in a round trip";
  FT_CHECK(again.entries == out.entries) << "entries changed in a round trip";
}

}  // namespace
}  // namespace ft::replay

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ft::replay;  // NOLINT: one function
  if (size < 2) return 0;
  const auto mode = static_cast<fuzz::Mode>(data[0] % fuzz::kModes);
  const size_t chunk = data[1] % 61 + 1;
  const std::vector<uint8_t> stream =
      fuzz::StreamOf(mode, std::span<const uint8_t>(data + 2, size - 2));

  const Outcome whole = Decode(stream, std::max<size_t>(stream.size(), 1));
  const Outcome pieces = Decode(stream, chunk);
  FT_CHECK(whole.status == pieces.status)
      << whole.status.ToString() << " vs " << pieces.status.ToString();
  FT_CHECK(whole.header == pieces.header);
  FT_CHECK(whole.entries == pieces.entries);
  CheckReencodes(whole);
  return 0;
}
