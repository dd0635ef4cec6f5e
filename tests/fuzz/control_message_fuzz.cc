// Fuzz target for the requests a secondary sends the primary
// (logchannel/control_message.h): never a crash, and what the decoder
// accepts re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/check.h"
#include "logchannel/control_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  absl::StatusOr<ft::logchannel::ControlMessage> m =
      ft::logchannel::DecodeControlMessage(in);
  if (m.ok()) {
    const std::vector<uint8_t> again = ft::logchannel::EncodeControlMessage(*m);
    FT_CHECK(again == std::vector<uint8_t>(in.begin(), in.end()))
        << "a decoded request re-encodes differently";
  }
  return 0;
}
