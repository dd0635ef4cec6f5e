// One-at-a-time round trips for bench/channel_throughput: what an output's
// hold costs on an idle link. The channel's (a DATA record sent, then its
// ACK waited for) is compared with bare TCP's between the same two
// addresses (a record written, then an 8-byte answer read), measured the
// same way by the same program, so that the ratio shows what the channel
// adds (framing, sealing, its reader threads) over the path under it.
//
// Thread ownership: single-threaded; each function owns its transport.
#ifndef FTVM_BENCH_ROUND_TRIPS_H_
#define FTVM_BENCH_ROUND_TRIPS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "logchannel/transport.h"

namespace ft::bench {

// Round-trip times, in seconds, in the order measured.
struct RoundTrips {
  std::vector<double> seconds;

  // Exact quantiles of the samples (nearest rank); 0 when there are none.
  double Mean() const;
  double Quantile(double q) const;
  // " round_trips=N rtt_mean_ms=M rtt_p50_ms=M rtt_p99_ms=M"
  std::string Fields() const;
};

// The sending side of bare TCP: tells the peer the record size, then writes
// records of `record_bytes` one at a time for `duration`, each followed by a
// wait for the peer's 8-byte answer.
absl::StatusOr<RoundTrips> BareTcpSend(logchannel::Transport& transport,
                                       uint64_t record_bytes,
                                       absl::Duration duration);

// The answering side: reads the record size, then answers every whole record
// with 8 bytes until the sender ends the stream. Returns the records read.
absl::StatusOr<uint64_t> BareTcpAnswer(logchannel::Transport& transport,
                                       uint64_t max_record_bytes,
                                       absl::Duration idle_timeout);

}  // namespace ft::bench

#endif  // FTVM_BENCH_ROUND_TRIPS_H_
