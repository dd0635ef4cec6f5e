// The metrics of a log channel, registered in the registry the owner passes
// (common/metrics.h) under the label channel="<name>".
//
// Thread ownership: the pointers are the registry's; updates are thread-safe.
#ifndef FTVM_LOGCHANNEL_CHANNEL_METRICS_H_
#define FTVM_LOGCHANNEL_CHANNEL_METRICS_H_

#include <string>

#include "common/metrics.h"

namespace ft::logchannel {

struct ChannelMetrics {
  static ChannelMetrics Register(metrics::Registry& registry,
                                 const std::string& channel);

  // The log itself: DATA records and their payload bytes.
  metrics::Counter* data_records_sent;
  metrics::Counter* data_bytes_sent;
  metrics::Counter* data_records_received;
  metrics::Counter* data_bytes_received;
  // Everything on the wire (headers, tags, control records).
  metrics::Counter* wire_bytes_sent;
  metrics::Counter* wire_bytes_received;
  metrics::Counter* acks_sent;
  metrics::Counter* acks_received;
  metrics::Counter* heartbeats_sent;
  metrics::Counter* heartbeats_received;
  // Send waits for room in the send buffer.
  metrics::Counter* backpressure_stalls;
  metrics::Counter* backpressure_stall_seconds;
  // From writing a DATA record to receiving the ACK that covers it.
  metrics::Histogram* ack_rtt_seconds;
  // Sent or queued, not yet acknowledged: how far the peer lags.
  metrics::Gauge* unacked_bytes;
  metrics::Gauge* unacked_records;
};

}  // namespace ft::logchannel

#endif  // FTVM_LOGCHANNEL_CHANNEL_METRICS_H_
