#include "logchannel/transport.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace ft::logchannel {

int PollTimeoutMs(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  // Rounded up, so that a wait does not end just before its deadline and
  // spin on a zero timeout.
  const int64_t ms = absl::ToInt64Milliseconds(left + absl::Milliseconds(1) -
                                               absl::Nanoseconds(1));
  return static_cast<int>(
      std::min<int64_t>(ms, std::numeric_limits<int>::max()));
}

absl::Status ReadExact(Transport& transport, std::span<uint8_t> buf,
                       absl::Time deadline) {
  size_t got = 0;
  while (got < buf.size()) {
    FT_ASSIGN_OR_RETURN(const size_t n,
                        transport.Read(buf.subspan(got), deadline));
    if (n == 0) {
      return absl::OutOfRangeError(absl::StrCat(
          transport.Describe(), ": the peer closed the stream after ", got,
          " of ", buf.size(), " bytes"));
    }
    got += n;
  }
  return absl::OkStatus();
}

}  // namespace ft::logchannel
