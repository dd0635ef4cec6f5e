#include "logchannel/channel_metrics.h"

namespace ft::logchannel {

ChannelMetrics ChannelMetrics::Register(metrics::Registry& r,
                                        const std::string& channel) {
  const metrics::Labels l = {{"channel", channel}};
  // 50 us to about 13 s: a LAN round trip to a secondary stalled by a
  // checkpoint.
  const std::vector<double> rtt_buckets =
      metrics::ExponentialBuckets(50e-6, 2, 19);
  return ChannelMetrics{
      .data_records_sent =
          r.GetCounter("ftvm_logchannel_data_records_sent_total",
                       "DATA records (log frames) sent.", l),
      .data_bytes_sent = r.GetCounter("ftvm_logchannel_data_bytes_sent_total",
                                      "DATA payload bytes sent.", l),
      .data_records_received =
          r.GetCounter("ftvm_logchannel_data_records_received_total",
                       "DATA records (log frames) received.", l),
      .data_bytes_received =
          r.GetCounter("ftvm_logchannel_data_bytes_received_total",
                       "DATA payload bytes received.", l),
      .wire_bytes_sent = r.GetCounter(
          "ftvm_logchannel_wire_bytes_sent_total",
          "Bytes written to the transport, headers and control records "
          "included.",
          l),
      .wire_bytes_received =
          r.GetCounter("ftvm_logchannel_wire_bytes_received_total",
                       "Bytes read from the transport.", l),
      .acks_sent = r.GetCounter("ftvm_logchannel_acks_sent_total",
                                "ACK records sent.", l),
      .acks_received = r.GetCounter("ftvm_logchannel_acks_received_total",
                                    "ACK records received.", l),
      .heartbeats_sent = r.GetCounter("ftvm_logchannel_heartbeats_sent_total",
                                      "HEARTBEAT records sent.", l),
      .heartbeats_received =
          r.GetCounter("ftvm_logchannel_heartbeats_received_total",
                       "HEARTBEAT records received.", l),
      .backpressure_stalls = r.GetCounter(
          "ftvm_logchannel_backpressure_stalls_total",
          "Times Send waited for room in the send buffer (the peer lagged).",
          l),
      .backpressure_stall_seconds = r.GetCounter(
          "ftvm_logchannel_backpressure_stall_seconds_total",
          "Time Send spent waiting for room in the send buffer.", l),
      .ack_rtt_seconds = r.GetHistogram(
          "ftvm_logchannel_ack_rtt_seconds",
          "From writing a DATA record to receiving the ACK that covers it.",
          rtt_buckets, l),
      .unacked_bytes = r.GetGauge(
          "ftvm_logchannel_unacked_bytes",
          "DATA payload bytes sent or queued and not yet acknowledged.", l),
      .unacked_records = r.GetGauge(
          "ftvm_logchannel_unacked_records",
          "DATA records sent or queued and not yet acknowledged.", l),
  };
}

}  // namespace ft::logchannel
