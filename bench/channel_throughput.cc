// The log channel's own throughput (issue 5): one side Sends DATA records as
// fast as the channel takes them for a while, the other acknowledges each
// as it arrives (as the FT secondary does), over TCP between two FT
// addresses. The receiver also stands in for a secondary whose replay runs
// on a host of its own (bench/ft_overhead.sh's "FT, ack-only host 2").
// bench/ft_overhead.sh runs it encrypted and plaintext on the test network,
// next to iperf3 between the same two addresses, to show what the channel costs
// over the bare TCP path and what encryption costs.
//
//   channel_throughput --listen ADDR:PORT --secret-file F [--plaintext]
//   channel_throughput --connect ADDR:PORT --local ADDR --secret-file F
//                      [--plaintext] [--seconds N] [--record-bytes B]
//                      [--one-at-a-time]
// and, for the bare TCP baseline of --one-at-a-time, both sides with
// --bare-tcp and no secret (bench/round_trips.h).
//
// The sender prints one line of key=value fields, e.g.
//   channel_throughput: mode=encrypted record_bytes=65536 records=... bytes=...
//   seconds=... mbit_per_s=... ack_rtt_mean_ms=... ...
// where seconds runs from the first Send to the acknowledgement of the last
// record.

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/round_trips.h"
#include "common/metrics.h"
#include "logchannel/channel.h"
#include "logchannel/record.h"
#include "logchannel/tcp_transport.h"
#include "tools/cli/args.h"
#include "tools/ftvm/ft_options.h"

namespace ft::bench {
namespace {

constexpr int kExitFailed = 1;
constexpr char kName[] = "channel_throughput";
constexpr char kChannelName[] = "bench";
// The receiver gives up when no DATA arrives for this long: the sender sends
// without pause until it closes.
constexpr absl::Duration kIdleTimeout = absl::Seconds(60);
// How long the sender waits for the last acknowledgement.
constexpr absl::Duration kDrainTimeout = absl::Seconds(120);

constexpr char kEpilog[] =
    "Two modes. The receiver (--listen) accepts one connection, opens the\n"
    "channel as the secondary, acknowledges every DATA record as it arrives\n"
    "(as ftvm secondary does) until the sender closes the channel, and\n"
    "prints what it got.\n"
    "The sender (--connect) opens the channel as the primary, Sends records\n"
    "of --record-bytes for --seconds, waits until every one is acknowledged,\n"
    "closes, and prints one line:\n"
    "  channel_throughput: mode=encrypted record_bytes=65536 records=N\n"
    "  bytes=N seconds=S mbit_per_s=R send_seconds=S ack_rtt_mean_ms=M\n"
    "  ack_rtt_p50_ms=M ack_rtt_p99_ms=M backpressure_stalls=N\n"
    "seconds runs from the first Send to the last acknowledgement; bytes are\n"
    "DATA payload bytes (headers and GCM tags not counted). The ack round\n"
    "trip is the channel's own (ftvm_logchannel_ack_rtt_seconds: from writing\n"
    "a record to the ACK covering it); under this saturating load it is\n"
    "mostly queueing. Percentiles are interpolated within its buckets.\n"
    "\n"
    "Latency: with --one-at-a-time the sender waits for each record's\n"
    "acknowledgement before the next, and the line ends with the measured\n"
    "round trips (Send to the acknowledgement's arrival at the channel's\n"
    "reader, where ftvm primary releases held outputs; exact percentiles):\n"
    "  round_trips=N rtt_mean_ms=M rtt_p50_ms=M rtt_p99_ms=M\n"
    "With --bare-tcp on both sides there is no channel: the same records go\n"
    "over bare TCP between the same addresses, each answered with 8 bytes,\n"
    "and the sender prints mode=bare-tcp with the same round-trip fields;\n"
    "the ratio of the two is what the channel adds to an output's hold.\n"
    "\n"
    "Both sides need the same secret file (as `ftvm primary "
    "--ft-secret-file`:\n"
    "its first line, at least 16 bytes, not readable by other users) and the\n"
    "same --plaintext setting.\n"
    "\n"
    "Exit status: 0 done, 1 the channel failed, 2 bad options.\n";

using SteadyClock = std::chrono::steady_clock;

double SecondsBetween(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Mbit(uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) * 8 / 1e6 / seconds : 0;
}

// The acknowledgement round trip, from the channel's histogram as exported
// (parsing the export keeps this independent of the bucket layout).
struct AckRtt {
  uint64_t count = 0;
  double mean_s = 0;
  double p50_s = 0;
  double p99_s = 0;
};

std::optional<AckRtt> ReadAckRtt(const metrics::Registry& registry) {
  constexpr absl::string_view kMetric = "ftvm_logchannel_ack_rtt_seconds";
  std::vector<std::pair<double, uint64_t>> buckets;  // (le, cumulative)
  double sum = 0;
  uint64_t count = 0;
  for (absl::string_view line :
       absl::StrSplit(registry.ExportPrometheus(), '\n')) {
    if (!absl::StartsWith(line, kMetric)) continue;
    absl::string_view rest = line.substr(kMetric.size());
    const size_t space = rest.rfind(' ');
    if (space == absl::string_view::npos) continue;
    const absl::string_view value = rest.substr(space + 1);
    if (absl::StartsWith(rest, "_bucket{")) {
      const size_t le = rest.find("le=\"");
      if (le == absl::string_view::npos) continue;
      const absl::string_view bound_text =
          rest.substr(le + 4, rest.find('"', le + 4) - (le + 4));
      double bound = std::numeric_limits<double>::infinity();
      uint64_t cumulative = 0;
      if (bound_text != "+Inf" && !absl::SimpleAtod(bound_text, &bound)) {
        return std::nullopt;
      }
      if (!absl::SimpleAtoi(value, &cumulative)) return std::nullopt;
      buckets.emplace_back(bound, cumulative);
    } else if (absl::StartsWith(rest, "_sum")) {
      if (!absl::SimpleAtod(value, &sum)) return std::nullopt;
    } else if (absl::StartsWith(rest, "_count")) {
      if (!absl::SimpleAtoi(value, &count)) return std::nullopt;
    }
  }
  if (count == 0 || buckets.empty()) return std::nullopt;
  // As Prometheus' histogram_quantile: linear within the bucket holding the
  // rank; the +Inf bucket answers with the highest finite bound.
  auto quantile = [&](double q) {
    const double rank = q * static_cast<double>(count);
    double lower = 0;
    uint64_t below = 0;
    for (const auto& [bound, cumulative] : buckets) {
      if (static_cast<double>(cumulative) >= rank) {
        if (std::isinf(bound)) return lower;
        const uint64_t in_bucket = cumulative - below;
        if (in_bucket == 0) return bound;
        return lower + (bound - lower) * (rank - static_cast<double>(below)) /
                           static_cast<double>(in_bucket);
      }
      if (!std::isinf(bound)) lower = bound;
      below = cumulative;
    }
    return lower;
  };
  return AckRtt{.count = count,
                .mean_s = sum / static_cast<double>(count),
                .p50_s = quantile(0.5),
                .p99_s = quantile(0.99)};
}

const char* ModeName(logchannel::Security security) {
  return security == logchannel::Security::kPlaintext ? "plaintext"
                                                      : "encrypted";
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s: %s\n", kName, what.c_str(),
               std::string(status.message()).c_str());
  return kExitFailed;
}

struct Config {
  HostPort at;  // --listen or --connect
  std::string local;
  std::string interface;
  std::string secret;
  logchannel::Security security = logchannel::Security::kEncrypted;
  double seconds = 5;
  uint64_t record_bytes = 64 << 10;
  bool one_at_a_time = false;
  bool bare_tcp = false;
  absl::Duration accept_timeout = absl::Minutes(1);
};

logchannel::ChannelOptions ChannelOptionsFor(const Config& c,
                                             logchannel::Role role,
                                             metrics::Registry* registry) {
  return logchannel::ChannelOptions{
      .role = role,
      .shared_secret = c.secret,
      .security = c.security,
      // As the FT secondary: what arrives is acknowledged at once.
      .ack_on_receipt = role == logchannel::Role::kSecondary,
      .metrics = registry,
      .name = kChannelName,
  };
}

int RunReceiver(const Config& c) {
  absl::StatusOr<std::unique_ptr<logchannel::TcpListener>> listener =
      logchannel::TcpListener::Listen(
          {.address = c.at.host, .port = c.at.port, .interface = c.interface});
  if (!listener.ok()) return Fail("listen", listener.status());
  // The sender's cue (bench/ft_overhead.sh waits for this line).
  std::fprintf(stderr, "%s: listening on %s\n", kName,
               (*listener)->Describe().c_str());
  std::fflush(stderr);
  absl::StatusOr<std::unique_ptr<logchannel::Transport>> transport =
      (*listener)->Accept(absl::Now() + c.accept_timeout);
  if (!transport.ok()) return Fail("accept", transport.status());
  if (c.bare_tcp) {
    absl::StatusOr<uint64_t> records =
        BareTcpAnswer(**transport, logchannel::kMaxDataBytes, kIdleTimeout);
    if (!records.ok()) return Fail("answering", records.status());
    std::printf("%s: received mode=bare-tcp records=%llu\n", kName,
                static_cast<unsigned long long>(*records));
    return 0;
  }
  metrics::Registry registry;
  absl::StatusOr<std::unique_ptr<logchannel::Channel>> channel =
      logchannel::Channel::Open(
          std::move(*transport),
          ChannelOptionsFor(c, logchannel::Role::kSecondary, &registry));
  if (!channel.ok()) return Fail("handshake", channel.status());

  uint64_t bytes = 0;
  uint64_t records = 0;
  SteadyClock::time_point first{};
  SteadyClock::time_point last{};
  absl::Status end;
  while (true) {
    absl::StatusOr<logchannel::ReceivedData> data =
        (*channel)->Receive(absl::Now() + kIdleTimeout);
    if (!data.ok()) {
      end = data.status();
      break;
    }
    last = SteadyClock::now();
    if (records == 0) first = last;
    ++records;
    bytes += data->payload.size();
  }
  // The sender's Close arrives as the peer's CLOSE, code Cancelled.
  if (!absl::IsCancelled(end)) return Fail("receiving", end);
  (*channel)->Close("receiver done");
  const double seconds = SecondsBetween(first, last);
  std::printf(
      "%s: received mode=%s records=%llu bytes=%llu seconds=%.3f "
      "mbit_per_s=%.1f\n",
      kName, ModeName(c.security), static_cast<unsigned long long>(records),
      static_cast<unsigned long long>(bytes), seconds, Mbit(bytes, seconds));
  return 0;
}

int RunSender(const Config& c) {
  absl::StatusOr<std::unique_ptr<logchannel::TcpTransport>> transport =
      logchannel::TcpTransport::Connect({.local_address = c.local,
                                         .interface = c.interface,
                                         .remote_address = c.at.host,
                                         .remote_port = c.at.port},
                                        absl::Now() + absl::Seconds(10));
  if (!transport.ok()) return Fail("connect", transport.status());
  if (c.bare_tcp) {
    absl::StatusOr<RoundTrips> trips =
        BareTcpSend(**transport, c.record_bytes, absl::Seconds(c.seconds));
    if (!trips.ok()) return Fail("bare TCP round trips", trips.status());
    std::printf("%s: mode=bare-tcp record_bytes=%llu%s\n", kName,
                static_cast<unsigned long long>(c.record_bytes),
                trips->Fields().c_str());
    return 0;
  }
  metrics::Registry registry;
  logchannel::ChannelOptions options =
      ChannelOptionsFor(c, logchannel::Role::kPrimary, &registry);
  // When the ACK reached the reader thread, where ftvm primary releases held
  // outputs: a round trip that ends here leaves out this thread's wake-up
  // from WaitAcked, which an output's hold does not have either.
  // on_ack runs just after acked() advanced, so WaitAcked may return first:
  // the time is read once on_ack has stored it for that record.
  std::atomic<int64_t> acked_at_ns{0};
  std::atomic<uint64_t> acked_through{0};
  options.on_ack = [&](logchannel::SequenceNumber acked) {
    acked_at_ns.store(SteadyClock::now().time_since_epoch().count(),
                      std::memory_order_relaxed);
    acked_through.store(acked.value(), std::memory_order_release);
  };
  absl::StatusOr<std::unique_ptr<logchannel::Channel>> opened =
      logchannel::Channel::Open(std::move(*transport), std::move(options));
  if (!opened.ok()) return Fail("handshake", opened.status());
  logchannel::Channel& channel = **opened;

  // Incompressible bytes, like compressed checkpoint pages (the channel does
  // not compress, but a link might).
  std::vector<uint8_t> payload(c.record_bytes);
  std::mt19937_64 random(42);
  for (uint8_t& b : payload) b = static_cast<uint8_t>(random());

  uint64_t records = 0;
  RoundTrips trips;  // with --one-at-a-time
  logchannel::SequenceNumber last_sent;
  const SteadyClock::time_point start = SteadyClock::now();
  const SteadyClock::time_point stop =
      start + std::chrono::duration_cast<SteadyClock::duration>(
                  std::chrono::duration<double>(c.seconds));
  SteadyClock::time_point sent = start;
  while (sent < stop) {
    absl::StatusOr<logchannel::SequenceNumber> seq = channel.Send(payload);
    if (!seq.ok()) return Fail("sending", seq.status());
    last_sent = *seq;
    ++records;
    if (c.one_at_a_time) {
      if (absl::Status s = channel.WaitAcked(*seq, absl::Now() + kDrainTimeout);
          !s.ok()) {
        return Fail("waiting for an acknowledgement", s);
      }
      while (acked_through.load(std::memory_order_acquire) < seq->value()) {
        std::this_thread::yield();
      }
      trips.seconds.push_back(SecondsBetween(
          sent, SteadyClock::time_point(SteadyClock::duration(
                    acked_at_ns.load(std::memory_order_relaxed)))));
    }
    sent = SteadyClock::now();
  }
  if (absl::Status s =
          channel.WaitAcked(last_sent, absl::Now() + kDrainTimeout);
      !s.ok()) {
    return Fail("waiting for the last acknowledgement", s);
  }
  const SteadyClock::time_point acked = SteadyClock::now();
  const logchannel::ChannelStats stats = channel.stats();
  channel.Close("sender done");

  const uint64_t bytes = records * c.record_bytes;
  const double seconds = SecondsBetween(start, acked);
  const std::optional<AckRtt> rtt = ReadAckRtt(registry);
  std::printf(
      "%s: mode=%s record_bytes=%llu records=%llu bytes=%llu seconds=%.3f "
      "mbit_per_s=%.1f send_seconds=%.3f ack_rtt_mean_ms=%.3f "
      "ack_rtt_p50_ms=%.3f ack_rtt_p99_ms=%.3f backpressure_stalls=%llu%s\n",
      kName, ModeName(c.security),
      static_cast<unsigned long long>(c.record_bytes),
      static_cast<unsigned long long>(records),
      static_cast<unsigned long long>(bytes), seconds, Mbit(bytes, seconds),
      SecondsBetween(start, sent), rtt ? rtt->mean_s * 1e3 : NAN,
      rtt ? rtt->p50_s * 1e3 : NAN, rtt ? rtt->p99_s * 1e3 : NAN,
      static_cast<unsigned long long>(stats.backpressure_stalls),
      c.one_at_a_time ? trips.Fields().c_str() : "");
  return 0;
}

int Main(const std::vector<std::string>& args) {
  std::string listen, connect, local;
  // The same options as ftvm's, without the "ft-" (all here are FT's).
  FtOptions ft{.prefix = ""};
  std::string seconds = "5";
  std::string accept_timeout = "1m";
  Config c;
  cli::ArgParser parser(
      "channel_throughput (--listen ADDR:PORT | --connect ADDR:PORT --local "
      "ADDR) --secret-file FILE [options]",
      "Measures the FT log channel's throughput over TCP: DATA records sent\n"
      "as fast as the channel takes them, each acknowledged on arrival.");
  parser.AddString("listen", "ADDR:PORT",
                   "Receive: this host's FT address and port to wait on.",
                   &listen);
  parser.AddString("connect", "ADDR:PORT",
                   "Send: the receiver's address and port.", &connect);
  parser.AddString("local", "ADDR",
                   "With --connect: this host's FT address, the connection's "
                   "source (required).",
                   &local);
  AddFtOptions(parser, &ft);
  parser.AddString("seconds", "N",
                   "With --connect: how long to send, in seconds.", &seconds);
  parser.AddSize("record-bytes",
                 "With --connect: the payload of each DATA record.",
                 &c.record_bytes);
  parser.AddBool("one-at-a-time",
                 "With --connect: wait for each record's acknowledgement "
                 "before sending the next (the channel's round trip without "
                 "load, as an output's hold sees it on an idle link).",
                 &c.one_at_a_time);
  parser.AddBool("bare-tcp",
                 "Both sides: no log channel, bare TCP between the same "
                 "addresses, each record answered with 8 bytes, one at a "
                 "time: the baseline for --one-at-a-time. No secret.",
                 &c.bare_tcp);
  parser.AddString("accept-timeout", "DURATION",
                   "With --listen: how long to wait for the sender.",
                   &accept_timeout);
  parser.AddEpilog(kEpilog);
  int exit_code = 0;
  if (!cli::ParseOptions(parser, kName, args, &exit_code)) return exit_code;
  auto usage = [](const std::string& why) {
    return cli::UsageError(kName, why);
  };
  if (listen.empty() == connect.empty()) {
    return usage(
        "give exactly one of --listen ADDR:PORT or --connect ADDR:PORT");
  }
  const bool sender = !connect.empty();
  const char* const where = sender ? "--connect" : "--listen";
  absl::StatusOr<HostPort> at = ParseHostPort(sender ? connect : listen);
  if (!at.ok()) {
    return usage(std::string(where) + ": " +
                 std::string(at.status().message()));
  }
  c.at = *at;
  c.interface = ft.interface;
  if (sender) {
    if (local.empty()) return usage("--connect needs --local ADDR");
    c.local = local;
    if (!absl::SimpleAtod(seconds, &c.seconds) || !std::isfinite(c.seconds) ||
        c.seconds <= 0 || c.seconds > 3600) {
      return usage("--seconds: '" + seconds +
                   "' is not a number of seconds in (0, 3600]");
    }
    if (c.record_bytes == 0 || c.record_bytes > logchannel::kMaxDataBytes) {
      return usage("--record-bytes: must be 1 to " +
                   std::to_string(logchannel::kMaxDataBytes) +
                   " (a DATA record's limit)");
    }
  } else {
    if (!local.empty()) return usage("--local is for --connect");
    if (!absl::ParseDuration(accept_timeout, &c.accept_timeout) ||
        c.accept_timeout <= absl::ZeroDuration()) {
      return usage("--accept-timeout: '" + accept_timeout +
                   "' is not a positive duration (e.g. 30s)");
    }
  }
  if (c.bare_tcp) return sender ? RunSender(c) : RunReceiver(c);
  absl::StatusOr<std::string> secret = ft.ReadSecret();
  if (!secret.ok()) return cli::UsageError(kName, secret.status());
  c.secret = *secret;
  c.security = ft.security();
  return sender ? RunSender(c) : RunReceiver(c);
}

}  // namespace
}  // namespace ft::bench

int main(int argc, char** argv) {
  return ft::bench::Main(std::vector<std::string>(argv + 1, argv + argc));
}
