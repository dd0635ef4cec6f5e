// Records: the unit of the log channel protocol (docs/logchannel.md).
//
// Every record is a 16-byte header and a body:
//
//   magic "FC" (2) | type (1) | flags (1) | body length (u32 LE) |
//   sequence (u64 LE) | body (length bytes)
//
// After the handshake every record is sealed with AES-256-GCM: the body is
// the payload (encrypted, or in the clear on a plaintext channel) followed by
// a 16-byte tag, and the header is authenticated with it.
//
// This file has the layout, the bounds and the body codecs of each type.
// Everything here checks what it parses: bodies come from an untrusted peer.
// Stateless; any thread.
#ifndef FTVM_LOGCHANNEL_RECORD_H_
#define FTVM_LOGCHANNEL_RECORD_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/strong_types.h"

namespace ft::logchannel {

// The number of a DATA record in its direction: 1 for the first. An ACK
// carries the highest number received and processed (cumulative).
using SequenceNumber = StrongInt<struct SequenceNumberTag, uint64_t>;

// Protocol versions: the current one, and the oldest still accepted. A new
// version may change record bodies, never the header or the HELLO (which
// negotiates it). Version 3 added the HEARTBEAT's progress; version 4 has
// the same records, and tells the secondary that the primary answers
// control messages (logchannel/control_message.h).
inline constexpr uint16_t kProtocolVersion = 4;
inline constexpr uint16_t kOldestProtocolVersion = 2;
// Every version this build speaks, newest first: what a side offers.
std::vector<uint16_t> SpokenProtocolVersions();
// OK for a version this build speaks; InvalidArgument naming them otherwise.
absl::Status CheckSupportedVersion(uint16_t version);

enum class RecordType : uint8_t {
  kHello = 1,       // handshake: versions, role, nonce, settings
  kHelloReply = 2,  // handshake: chosen version and proof of the secret
  kData = 3,        // one log frame: opaque bytes
  kAck = 4,         // cumulative acknowledgement (sequence in the header)
  kHeartbeat = 5,   // liveness: the sender's clock and counters
  kClose = 6,       // the end of the channel and why
};
inline constexpr uint8_t kMaxRecordType = 6;
const char* RecordTypeName(RecordType type);

enum class Role : uint8_t { kPrimary = 1, kSecondary = 2 };
const char* RoleName(Role role);

inline constexpr std::array<uint8_t, 2> kRecordMagic = {'F', 'C'};
inline constexpr size_t kRecordHeaderBytes = 16;
inline constexpr size_t kTagBytes = 16;  // AES-GCM

// Header flags. Unknown bits are refused.
inline constexpr uint8_t kFlagSealed = 0x01;     // body ends with a GCM tag
inline constexpr uint8_t kFlagEncrypted = 0x02;  // payload encrypted (sealed)
inline constexpr uint8_t kKnownFlags = kFlagSealed | kFlagEncrypted;

// Payload bounds per type (before the tag). A DATA record carries one log
// frame: the 32 MiB frame bound of replay/frame.h plus room for the frame
// header and a little framing around it.
inline constexpr size_t kMaxDataBytes = (size_t{32} << 20) + 4096;
inline constexpr size_t kNonceBytes = 32;
inline constexpr size_t kProofBytes = 32;
inline constexpr size_t kMaxVersions = 8;
// versions count + versions + role + flags + window + nonce
inline constexpr size_t kMaxHelloBytes =
    1 + 2 * kMaxVersions + 1 + 1 + 8 + kNonceBytes;
inline constexpr size_t kHelloReplyBytes = 2 + kProofBytes;
// HEARTBEAT bodies: version 2's, and the current (the bound) with progress.
inline constexpr size_t kHeartbeatV2Bytes = 24;
inline constexpr size_t kHeartbeatBytes = 32;
inline constexpr size_t kMaxCloseReasonBytes = 1024;
inline constexpr size_t kMaxCloseBytes = 1 + 2 + kMaxCloseReasonBytes;
// A receive window below this could not hold a heartbeat's worth of data.
inline constexpr uint64_t kMinReceiveWindowBytes = 4096;
inline constexpr uint64_t kMaxReceiveWindowBytes = uint64_t{1} << 40;

// The largest payload a record of `type` may carry.
size_t MaxPayloadBytes(RecordType type);

struct RecordHeader {
  RecordType type = RecordType::kData;
  uint8_t flags = 0;
  uint32_t length = 0;  // body bytes, the tag included
  uint64_t sequence = 0;

  bool sealed() const { return (flags & kFlagSealed) != 0; }
  bool encrypted() const { return (flags & kFlagEncrypted) != 0; }
  bool operator==(const RecordHeader&) const = default;
};

std::array<uint8_t, kRecordHeaderBytes> EncodeRecordHeader(
    const RecordHeader& header);
// Checks everything a header alone can tell: the magic, a known type, known
// flags (encrypted only when sealed), a length within the type's bound (a
// sealed body at least holds its tag), and the sequence field's rule (DATA and
// ACK: at least 1; other types: 0). DataLoss otherwise, naming the field.
absl::StatusOr<RecordHeader> ParseRecordHeader(
    std::span<const uint8_t, kRecordHeaderBytes> bytes);

// An unsealed record (the handshake), appended to `out`.
void AppendPlainRecord(RecordType type, std::span<const uint8_t> body,
                       std::vector<uint8_t>& out);

// HELLO: what a side supports and wants. The layout is frozen across
// protocol versions, so that any two versions can negotiate:
//   count (u8, 1..8) | versions (u16 LE each, distinct, non-zero) |
//   role (u8) | flags (u8: bit 0 encryption wanted) |
//   receive window (u64 LE) | nonce (32)
struct Hello {
  std::vector<uint16_t> versions;
  Role role = Role::kPrimary;
  bool wants_encryption = true;
  // Unacknowledged DATA payload bytes this side accepts (flow control).
  uint64_t receive_window_bytes = 0;
  std::array<uint8_t, kNonceBytes> nonce{};
  bool operator==(const Hello&) const = default;
};
std::vector<uint8_t> EncodeHello(const Hello& hello);
absl::StatusOr<Hello> ParseHello(std::span<const uint8_t> body);

// HELLO_REPLY: version (u16 LE) | proof (32)
struct HelloReply {
  uint16_t version = 0;
  std::array<uint8_t, kProofBytes> proof{};
  bool operator==(const HelloReply&) const = default;
};
std::vector<uint8_t> EncodeHelloReply(const HelloReply& reply);
absl::StatusOr<HelloReply> ParseHelloReply(std::span<const uint8_t> body);

// HEARTBEAT: sender's monotonic time (ns, i64 LE) | the last DATA sequence
// it sent (u64 LE) | the last sequence it acknowledged (u64 LE) | since
// version 3, progress (u64 LE): a monotonic counter of the sender's
// application (the FT primary's position), 0 if it has none. On an ordered
// stream both sequences must equal what the receiver has seen, which it
// checks. The body's length is exact for the negotiated `version` (a
// supported one); version 2 has no progress, which must then be 0.
struct Heartbeat {
  int64_t sender_time_ns = 0;
  SequenceNumber sent;
  SequenceNumber acked;
  uint64_t progress = 0;
  bool operator==(const Heartbeat&) const = default;
};
bool HeartbeatHasProgress(uint16_t version);
size_t HeartbeatBytes(uint16_t version);
std::vector<uint8_t> EncodeHeartbeat(const Heartbeat& heartbeat,
                                     uint16_t version);
absl::StatusOr<Heartbeat> ParseHeartbeat(std::span<const uint8_t> body,
                                         uint16_t version);

// CLOSE: status code (u8, an absl::StatusCode) | reason length (u16 LE) |
// reason (printable ASCII, at most kMaxCloseReasonBytes).
struct CloseNotice {
  absl::StatusCode code = absl::StatusCode::kCancelled;
  std::string reason;
  bool operator==(const CloseNotice&) const = default;
};
// A longer reason is cut, and bytes that are not printable ASCII become '?'.
std::vector<uint8_t> EncodeClose(const CloseNotice& close);
absl::StatusOr<CloseNotice> ParseClose(std::span<const uint8_t> body);

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_RECORD_H_
