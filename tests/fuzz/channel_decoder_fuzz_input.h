// The input format of the log channel decoder fuzz target, shared with the
// seed generator (make_channel_seeds.cc):
//
//   mode (1 byte) | chunk (1 byte) | body
//
// (mode & 0x3f) % 4 says what the body is; bit 7 of mode makes the session
// plaintext (authenticated, not encrypted) instead of encrypted, and bit 6
// decodes record bodies in the oldest protocol version accepted rather than
// the current one (kHandshakeStream, kSessionStream, kSessionRecords):
//   kHandshakeStream: bytes as a peer sends them during the handshake
//                     (unsealed records), split into records and each body
//                     parsed as its type;
//   kSessionStream:   bytes as a peer sends them after the handshake, sealed
//                     under FuzzKey(): mutations mostly meet the framing and
//                     the tag;
//   kSessionRecords:  records described as (type u8, sequence u64 LE, length
//                     u16 LE, payload) each, which the target seals under
//                     FuzzKey() in order, so that mutations reach the checks
//                     behind authentication (sequence, counters, bodies);
//   kHandshakePeer:   the bytes a peer sends, fed to a real handshake over
//                     an in-process transport.
// The stream is decoded in one piece and again in pieces of
// (chunk % 61) + 1 bytes; the two must agree.
#ifndef FTVM_TESTS_FUZZ_CHANNEL_DECODER_FUZZ_INPUT_H_
#define FTVM_TESTS_FUZZ_CHANNEL_DECODER_FUZZ_INPUT_H_

#include <cstdint>
#include <span>
#include <vector>

#include "common/check.h"
#include "logchannel/crypto.h"
#include "logchannel/record.h"
#include "logchannel/session_codec.h"

namespace ft::logchannel::fuzz {

enum Mode : uint8_t {
  kHandshakeStream = 0,
  kSessionStream = 1,
  kSessionRecords = 2,
  kHandshakePeer = 3,
};
inline constexpr uint8_t kModes = 4;
inline constexpr uint8_t kPlaintextBit = 0x80;
inline constexpr uint8_t kOldestVersionBit = 0x40;

inline Mode ModeOf(uint8_t mode_byte) {
  return static_cast<Mode>((mode_byte & 0x3f) % kModes);
}
inline uint16_t VersionOf(uint8_t mode_byte) {
  return (mode_byte & kOldestVersionBit) != 0 ? kOldestProtocolVersion
                                              : kProtocolVersion;
}

inline crypto::Key FuzzKey() {
  crypto::Key k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(0xa0 + i);
  return k;
}

// Appends one record description in the kSessionRecords encoding.
inline void AppendRecordSpec(RecordType type, uint64_t sequence,
                             std::span<const uint8_t> payload,
                             std::vector<uint8_t>& out) {
  FT_CHECK(payload.size() <= 0xffff) << "seed payload too large";
  out.push_back(static_cast<uint8_t>(type));
  for (int i = 0; i < 8; ++i) out.push_back(uint8_t(sequence >> (8 * i)));
  out.push_back(static_cast<uint8_t>(payload.size()));
  out.push_back(static_cast<uint8_t>(payload.size() >> 8));
  out.insert(out.end(), payload.begin(), payload.end());
}

// The sealed stream a kSessionRecords body stands for. Descriptions whose
// type is not one of the record types, or whose payload exceeds the type's
// bound, are sealed as they are anyway when the header allows it, and
// skipped otherwise (a truncated description ends the list).
inline std::vector<uint8_t> SealRecords(std::span<const uint8_t> body,
                                        bool encrypt) {
  absl::StatusOr<crypto::AesGcm> gcm =
      crypto::AesGcm::Create(FuzzKey(), crypto::AesGcm::Mode::kSeal);
  FT_CHECK_OK(gcm);
  std::vector<uint8_t> out;
  uint64_t count = 0;
  size_t at = 0;
  while (body.size() - at >= 11) {
    const uint8_t type = body[at];
    uint64_t sequence = 0;
    for (int i = 0; i < 8; ++i)
      sequence |= uint64_t{body[at + 1 + i]} << (8 * i);
    const size_t length = body[at + 9] | size_t{body[at + 10]} << 8;
    at += 11;
    if (body.size() - at < length) break;
    const std::span<const uint8_t> payload = body.subspan(at, length);
    at += length;
    if (type == 0 || type > kMaxRecordType) continue;
    const auto t = static_cast<RecordType>(type);
    if (payload.size() > MaxPayloadBytes(t)) continue;
    FT_CHECK_OK(
        AppendSealedRecord(*gcm, count++, t, sequence, encrypt, payload, out));
  }
  return out;
}

}  // namespace ft::logchannel::fuzz

#endif  // FTVM_TESTS_FUZZ_CHANNEL_DECODER_FUZZ_INPUT_H_
