// Cap'n Proto messages as the byte strings the log, the log channel and
// the device snapshots carry: one flat, unpacked message each. Reading one
// treats it as a peer's: any alignment, bounded work, and every Cap'n Proto
// exception (malformed pointers, wrong types, limits) turned into DataLoss.
//
// Header-only templates over the generated types; any thread.
#ifndef FTVM_SCHEMA_CAPNP_MESSAGE_H_
#define FTVM_SCHEMA_CAPNP_MESSAGE_H_

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace ft::schema {

inline std::vector<uint8_t> MessageBytes(capnp::MessageBuilder& message) {
  // Written once, straight into the vector (checkpoints are large).
  std::vector<uint8_t> bytes(capnp::computeSerializedSizeInWords(message) *
                             sizeof(capnp::word));
  kj::ArrayOutputStream out(kj::arrayPtr(bytes.data(), bytes.size()));
  capnp::writeMessage(out, message);
  return bytes;
}

struct ReadLimits {
  // Words the reader may visit per word of message: enough for any valid
  // message's pointers, while a hostile one cannot make it walk more than
  // a small multiple of its own size.
  uint64_t traversal_factor = 2;
  int nesting = 8;
};

// Runs `read` on the `Root` message in `bytes`; errors are DataLoss, their
// message prefixed with `what` (e.g. "pic-8259 state") when not empty.
template <typename Root, typename Fn>
auto ReadMessage(std::span<const uint8_t> bytes, std::string_view what,
                 ReadLimits limits, Fn read)
    -> decltype(read(std::declval<typename Root::Reader>())) {
  const std::string prefix = what.empty() ? "" : std::string(what) + ": ";
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s%u bytes are not a Cap'n Proto message (whole 8-byte words)", prefix,
        bytes.size()));
  }
  // A copy, because the bytes need not be word-aligned.
  kj::Array<capnp::word> words =
      kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words.size() * limits.traversal_factor + 64;
    options.nestingLimit = limits.nesting;
    capnp::FlatArrayMessageReader message(words, options);
    if (message.getEnd() != words.end()) {
      return absl::DataLossError(absl::StrFormat(
          "%s%u bytes after the end of the message", prefix,
          (words.end() - message.getEnd()) * sizeof(capnp::word)));
    }
    return read(message.getRoot<Root>());
  } catch (const kj::Exception& e) {
    return absl::DataLossError(absl::StrFormat(
        "%smalformed message: %s", prefix, e.getDescription().cStr()));
  }
}

}  // namespace ft::schema

#endif  // FTVM_SCHEMA_CAPNP_MESSAGE_H_
