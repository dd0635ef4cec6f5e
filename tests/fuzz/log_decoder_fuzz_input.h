// The input format of the execution log decoder fuzz target, shared with the
// seed generator (make_log_seeds.cc):
//
//   mode (1 byte) | chunk (1 byte) | body
//
// mode % 3 says what the body is:
//   kRawStream:     a log byte stream as stored (frames with their own magic,
//                   lengths and checksums), to fuzz the framing;
//   kPayloads:      frame payloads, each as a 2-byte little-endian length and
//                   its bytes, the first being the header; the target frames
//                   them with a correct checksum, so that mutations reach the
//                   Cap'n Proto decoder and the checks behind it instead of
//                   failing the checksum;
//   kEntryPayloads: as kPayloads, but the header is FuzzHeader() (not part of
//                   the input), so every mutation lands in entries.
// The stream is decoded in one piece and again in pieces of
// (chunk % 61) + 1 bytes; the two must agree.
#ifndef FTVM_TESTS_FUZZ_LOG_DECODER_FUZZ_INPUT_H_
#define FTVM_TESTS_FUZZ_LOG_DECODER_FUZZ_INPUT_H_

#include <cstdint>
#include <span>
#include <vector>

#include "common/check.h"
#include "replay/frame.h"
#include "replay/log_codec.h"
#include "replay/log_entry.h"

namespace ft::replay::fuzz {

enum Mode : uint8_t { kRawStream = 0, kPayloads = 1, kEntryPayloads = 2 };
inline constexpr uint8_t kModes = 3;

// A small machine: 16 pages of RAM, one vCPU, one disk, one NIC.
inline LogHeader FuzzHeader() {
  LogHeader h;
  h.writer = "fuzz";
  h.guest.memory_bytes = 16 * 4096;
  h.guest.vcpus = 1;
  h.guest.cpuid = {{.function = 1, .eax = 0x806f8}};
  h.guest.kernel = {
      .path = "/k", .size_bytes = 1, .sha256 = std::vector<uint8_t>(32, 1)};
  h.guest.disks = {{.image = {.path = "/d", .size_bytes = 4096}}};
  h.guest.nics = {{.mac = {2, 0, 0, 0, 0, 1}}};
  h.latency_bound_ns = 1'000'000;
  return h;
}

// Appends one payload in the kPayloads encoding.
inline void AppendPayload(std::span<const uint8_t> payload,
                          std::vector<uint8_t>& out) {
  FT_CHECK(payload.size() <= 0xffff) << "seed payload too large";
  out.push_back(static_cast<uint8_t>(payload.size()));
  out.push_back(static_cast<uint8_t>(payload.size() >> 8));
  out.insert(out.end(), payload.begin(), payload.end());
}

// The log stream an input's body stands for.
inline std::vector<uint8_t> StreamOf(Mode mode, std::span<const uint8_t> body) {
  if (mode == kRawStream) return {body.begin(), body.end()};
  std::vector<uint8_t> stream;
  if (mode == kEntryPayloads) {
    absl::StatusOr<std::vector<uint8_t>> header = EncodeHeader(FuzzHeader());
    FT_CHECK_OK(header);
    AppendFrame(*header, stream);
  }
  while (body.size() >= 2) {
    const size_t n =
        std::min<size_t>(body[0] | size_t{body[1]} << 8, body.size() - 2);
    AppendFrame(body.subspan(2, n), stream);
    body = body.subspan(2 + n);
  }
  return stream;
}

}  // namespace ft::replay::fuzz

#endif  // FTVM_TESTS_FUZZ_LOG_DECODER_FUZZ_INPUT_H_
