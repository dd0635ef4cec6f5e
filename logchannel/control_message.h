// Requests the secondary sends back to the primary on the log channel. The
// log flows one way; these are the other direction's DATA records, each one
// whole message:
//   magic "FQ" | version (u8, 1) | kind (u8) | body
// RESYNC (kind 1): position (u64 LE, where the replay left the recorded
// run) | reason length (u16 LE, at most kMaxResyncReasonBytes) | reason.
// The whole record is exactly that long. A primary that does not know a
// message refuses it (the secondary learns through the channel's end).
// A secondary sends them only on a channel of kControlMessagesSince or
// later: an older primary would never answer.
//
// Plain functions; any thread. The decoder's input comes from a peer: it
// is fuzzed (tests/fuzz/control_message_fuzz.cc).
#ifndef FTVM_LOGCHANNEL_CONTROL_MESSAGE_H_
#define FTVM_LOGCHANNEL_CONTROL_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace ft::logchannel {

inline constexpr size_t kMaxResyncReasonBytes = 1024;
// The first log channel protocol version whose primary reads these.
inline constexpr uint16_t kControlMessagesSince = 4;

// The secondary left the recorded run (a divergence) and asks for the
// whole machine: the primary logs a full checkpoint, from which the
// secondary restarts its replay.
struct ResyncRequest {
  uint64_t position = 0;
  std::string reason;  // truncated to kMaxResyncReasonBytes when encoded
  bool operator==(const ResyncRequest&) const = default;
};

using ControlMessage = std::variant<ResyncRequest>;

std::vector<uint8_t> EncodeControlMessage(const ControlMessage& message);
// DataLoss naming what is wrong: a bad magic, version or kind, a length
// that does not add up.
absl::StatusOr<ControlMessage> DecodeControlMessage(
    std::span<const uint8_t> bytes);

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_CONTROL_MESSAGE_H_
